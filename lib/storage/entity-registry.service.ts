import type { EntityDefinition, ReferenceDefinition } from '../metadata/entity-definition.interface.js';
import { EntityMetadataException } from '../metadata/entity-metadata.exception.js';
import { referenceTarget } from '../metadata/reference-target.util.js';

/** A reference to an entity, with the entity that holds it. */
export interface IncomingReference {
  readonly source: EntityDefinition;
  readonly reference: ReferenceDefinition;
}

/** How a write finds the entities references point to and the references that point to an entity. */
export interface EntityRelations {
  targetOf(source: EntityDefinition, reference: ReferenceDefinition): EntityDefinition;
  referencesTo(target: EntityDefinition): readonly IncomingReference[];
}

/**
 * The entities of one store, by name and by class. A name keys the entity's databases and a
 * path its routes, so two entities sharing either fail start-up, naming both classes.
 */
export class EntityRegistry implements EntityRelations {
  private readonly byName = new Map<string, EntityDefinition>();
  /** Every write through a repository or transaction looks its entity up by class. */
  private readonly byTarget = new Map<Function, EntityDefinition>();
  private readonly routed = new Set<string>();
  /** Each nested route claimed: `<target name>/<segment in lower case>` → the source entity's name. */
  private readonly nested = new Map<string, string>();
  /** Worked out when first asked, and again after an entity is added. */
  private incoming?: Map<string, IncomingReference[]>;

  /** Adds an entity; `false` when its class is registered already. */
  add(definition: EntityDefinition): boolean {
    const existing = this.byName.get(definition.name);
    if (existing?.target === definition.target) return false;
    if (existing) {
      throw new EntityMetadataException(definition.target.name, undefined, `entity name "${definition.name}" is already used by ${existing.target.name}`);
    }
    for (const other of this.byName.values()) {
      const clash = pathClash(definition.path, other.path);
      if (clash) throw new EntityMetadataException(definition.target.name, undefined, `route path "/${definition.path}" ${clash} ${other.target.name}`);
    }
    this.byName.set(definition.name, definition);
    this.byTarget.set(definition.target, definition);
    this.incoming = undefined;
    return true;
  }

  /**
   * A nested list route under `target`'s records, named after `source` (`/permits/:id/notes`):
   * two whose names differ only in case would answer each other's requests on Express, which
   * matches routes ignoring case.
   */
  claimNestedRoute(target: EntityDefinition, source: EntityDefinition): void {
    const key = `${target.name}/${source.name.toLowerCase()}`;
    const claimed = this.nested.get(key);
    if (claimed !== undefined && claimed !== source.name) {
      throw new EntityMetadataException(
        source.target.name,
        undefined,
        `the nested route /${target.path}/:id/${source.name} differs only in case from /${target.path}/:id/${claimed} (of ${this.byName.get(claimed)?.target.name ?? claimed})`,
      );
    }
    this.nested.set(key, source.name);
  }

  /** One entity's routes may be served once, however many modules list it. */
  claimRoutes(definition: EntityDefinition): void {
    if (this.routed.has(definition.name)) {
      throw new EntityMetadataException(definition.target.name, undefined, 'is listed in more than one EntitiesModule.forFeature(); list each entity once');
    }
    this.routed.add(definition.name);
  }

  of(target: Function): EntityDefinition {
    const definition = this.byTarget.get(target);
    if (definition) return definition;
    throw new Error(`${target.name} is not an entity of this store: list it in EntitiesModule.forFeature()`);
  }

  /** The entity a reference points to; fails naming the field when that class is not an entity of this store. */
  targetOf(source: EntityDefinition, reference: ReferenceDefinition): EntityDefinition {
    const target = referenceTarget(source, reference);
    const definition = typeof target === 'function' ? this.byTarget.get(target) : undefined;
    if (definition) return definition;
    const named = typeof target === 'function' ? target.name : String(target);
    throw new EntityMetadataException(
      source.target.name,
      reference.field,
      `@Reference(() => ${named}) refers to a class that is not an entity of this store; list it in EntitiesModule.forFeature()`,
    );
  }

  /** The references of every entity of this store to `target`. */
  referencesTo(target: EntityDefinition): readonly IncomingReference[] {
    this.incoming ??= this.incomingReferences();
    return this.incoming.get(target.name) ?? [];
  }

  /** Fails start-up on a reference to a class that is not an entity of this store. */
  checkReferences(): void {
    this.incoming = this.incomingReferences();
  }

  private incomingReferences(): Map<string, IncomingReference[]> {
    const incoming = new Map<string, IncomingReference[]>();
    for (const source of this.byName.values()) {
      for (const reference of source.references) {
        const target = this.targetOf(source, reference);
        incoming.set(target.name, [...(incoming.get(target.name) ?? []), { source, reference }]);
      }
    }
    return incoming;
  }

  named(name: string): EntityDefinition | undefined {
    return this.byName.get(name);
  }

  all(): EntityDefinition[] {
    return [...this.byName.values()];
  }
}

/**
 * Why two entities' routes cannot share a server, if they cannot: the same path, or the same
 * but for case (Express matches routes ignoring case), or one under the other (the outer
 * entity's `/:id` routes would answer the inner one's requests).
 */
export function pathClash(path: string, other: string): string | undefined {
  const [a, b] = [path.toLowerCase(), other.toLowerCase()];
  if (a === b) return path === other ? 'is already used by' : 'differs only in case from the path of';
  if (a.startsWith(`${b}/`)) return 'lies under the path of';
  if (b.startsWith(`${a}/`)) return 'holds the path of';
  return undefined;
}
