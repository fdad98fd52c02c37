import type { EntityDefinition } from '../metadata/entity-definition.interface.js';

interface Stemmed {
  stem: string;
  /** The generated classes named after the stem, to name again once it changes; held weakly, as apps come and go. */
  readonly named: Set<WeakRef<Function>>;
}

/** How each generated class is named after its stems; it lives as long as the class. */
const renamers = new WeakMap<Function, () => void>();
/** Forgets a generated class the garbage collector took. */
const forget = new FinalizationRegistry<{ named: Set<WeakRef<Function>>; ref: WeakRef<Function> }>(({ named, ref }) => named.delete(ref));

/** Per entity class, its stem and what was named after it. */
const stems = new WeakMap<Function, Stemmed>();
/** The definitions stems were made for, to name a class after its entity later. */
const entityDefinitions = new WeakMap<Function, EntityDefinition>();

/** Entity classes by class name: two of one name (`Item` of two modules) both take their entity's name. */
const classesByName = new Map<string, Set<Function>>();

/**
 * The stem of generated class and schema names: the entity class's own name (`Permit` →
 * `CreatePermitDto`). Classes of one name would share their schemas and operation ids in the
 * OpenAPI document, so while two entity classes share a name, each is named after its entity
 * instead (`catalog-items` → `CatalogItems`), whichever was declared first.
 */
export function classStem(definition: EntityDefinition): string {
  return stemmedOf(definition).stem;
}

/** Runs `apply` now and again whenever the stem of one of `definitions` changes: it names `type` after them. */
export function followStems(definitions: readonly EntityDefinition[], type: Function, apply: () => void): void {
  renamers.set(type, apply);
  for (const definition of definitions) {
    const { named } = stemmedOf(definition);
    const ref = new WeakRef(type);
    named.add(ref);
    forget.register(type, { named, ref });
  }
  apply();
}

function stemmedOf(definition: EntityDefinition): Stemmed {
  const { target } = definition;
  let stemmed = stems.get(target);
  if (stemmed) return stemmed;
  stemmed = { stem: target.name, named: new Set() };
  stems.set(target, stemmed);
  entityDefinitions.set(target, definition);
  const sharing = classesByName.get(target.name) ?? new Set<Function>();
  classesByName.set(target.name, sharing.add(target));
  if (sharing.size > 1) {
    stemmed.stem = entityStem(definition);
    // The classes of the name declared before were named after it: they take their entity's name too.
    for (const other of sharing) {
      if (other === target) continue;
      const named = stems.get(other)!;
      const stem = entityStem(entityDefinitions.get(other)!);
      if (named.stem === stem) continue;
      named.stem = stem;
      for (const ref of named.named) {
        const type = ref.deref();
        if (type) renamers.get(type)?.();
      }
    }
  }
  return stemmed;
}

/** `catalog-items` → `CatalogItems`. */
function entityStem(definition: EntityDefinition): string {
  return definition.name.replace(/(?:^|[-_])([a-z0-9])/gi, (_, letter: string) => letter.toUpperCase());
}
