import type { Type } from '@nestjs/common';
import type { Database } from 'lmdb';
import type { FieldType, HistoryPolicy, ReferenceDeleteRule } from '../metadata/decorator-options.interface.js';
import type { EntityDefinition, FieldDefinition, IndexDefinition } from '../metadata/entity-definition.interface.js';
import { afterPrefix, type IndexKey } from './index-key.util.js';
import { LmdbEnvironment } from './lmdb-environment.store.js';
import type { LmdbTuning, StorageOptions } from '../common/storage-options.interface.js';
import { META_DB } from './store-layout.util.js';

/** What storage needs of a field to check, index and historize records: no validators, no docs. */
export interface CatalogField {
  name: string;
  type: FieldType;
  required: boolean;
  default?: unknown;
  immutable: boolean;
  hidden: boolean;
  history: HistoryPolicy;
}

/** One entity as an app last opened the store with it. */
export interface CatalogEntity {
  name: string;
  path: string;
  fields: CatalogField[];
  indexes: IndexDefinition[];
  audited: boolean;
  /** Absent in catalogs recorded before soft delete existed, and when off. */
  softDelete?: boolean;
  /** Absent in catalogs recorded before references existed, and when there are none. */
  references?: CatalogReference[];
  /** The entity's schema version in the code that recorded it (`migrations`); absent for 1. */
  version?: number;
  /**
   * Fields removed from the class whose history stays in the store, with the policy it was
   * kept under: a field added back under a narrower one has it trimmed, as any narrowed
   * policy does. Absent when there are none.
   */
  removedHistory?: RemovedFieldHistory[];
}

/** A removed field's history policy, as the catalog remembers it. */
export interface RemovedFieldHistory {
  name: string;
  history: HistoryPolicy;
}

/** A `@Reference` field, its target named by entity: what the tools that write need to keep references whole. */
export interface CatalogReference {
  field: string;
  target: string;
  onDelete: ReferenceDeleteRule;
  as?: string;
}

/** The storage options an app last opened the store with. */
export type CatalogOptions = Pick<StorageOptions, 'eventRetention' | 'idempotencyTtl'>;

export interface StoreCatalog {
  entities: CatalogEntity[];
  options: CatalogOptions;
}

const ENTITY_KEY = ['catalog', 'entity'];
const OPTIONS_KEY: IndexKey = ['catalog', 'options'];

/**
 * Records each entity's definition and the storage options in the store's metadata, inside
 * a write transaction, so tools that hold only the directory (the command line) can read,
 * check and change the store as the app would. An entity no app registers any more keeps
 * its last entry, as its data is still there, unless a registered entity now has its route
 * path: then it was renamed, and two entries on one path could not be registered together.
 */
export function recordCatalog(meta: Database<unknown, IndexKey>, definitions: readonly EntityDefinition[], options: CatalogOptions): void {
  const registered = new Map(definitions.map((definition) => [definition.name, definition.path]));
  const paths = new Set(registered.values());
  for (const entity of readCatalog(meta)?.entities ?? []) {
    if (!registered.has(entity.name) && paths.has(entity.path)) meta.removeSync([...ENTITY_KEY, entity.name]);
  }
  const entityNameOf = entityNamesOf(definitions);
  for (const definition of definitions) {
    const entry = catalogEntityOf(definition, entityNameOf);
    const removed = removedHistoryOf(meta.get([...ENTITY_KEY, definition.name]) as CatalogEntity | undefined, definition);
    if (removed.length > 0) entry.removedHistory = removed;
    meta.putSync([...ENTITY_KEY, definition.name], entry);
  }
  meta.putSync(OPTIONS_KEY, {
    ...(options.eventRetention && { eventRetention: { ...options.eventRetention } }),
    ...(options.idempotencyTtl !== undefined && { idempotencyTtl: options.idempotencyTtl }),
  });
}

/** The history policies of the fields `recorded` declared or remembered as removed that `definition` does not declare. */
function removedHistoryOf(recorded: CatalogEntity | undefined, definition: EntityDefinition): RemovedFieldHistory[] {
  return [...(recorded?.removedHistory ?? []), ...(recorded?.fields ?? [])]
    .filter(({ name, history }) => !definition.fieldsByName.has(name) && history !== 'never')
    .map(({ name, history }) => ({ name, history }));
}

/** The recorded catalog, or `undefined` for a store no app with a catalog has opened yet. */
export function readCatalog(meta: Database<unknown, IndexKey>): StoreCatalog | undefined {
  const options = meta.get(OPTIONS_KEY) as CatalogOptions | undefined;
  if (options === undefined) return undefined;
  const entities = [...meta.getRange({ start: ENTITY_KEY, end: afterPrefix(ENTITY_KEY) })].map(({ value }) => value as CatalogEntity);
  return { entities, options };
}

/**
 * The catalog last recorded in the store at `path`, for a tool that holds only the directory.
 * Opens the environment briefly, read-only; the store must exist.
 */
export async function readCatalogAt(path: string, tuning?: LmdbTuning): Promise<StoreCatalog | undefined> {
  const environment = new LmdbEnvironment(path, tuning, true);
  environment.open(1);
  try {
    await environment.caughtUp();
    return readCatalog(environment.database(META_DB));
  } finally {
    await environment.close();
  }
}

/**
 * The definitions rebuilt from the catalog, for storage work only: each class is an empty
 * stand-in named after its entity, and they carry no permissions, cache or validators. Their
 * references point to each other's stand-ins, so the writes of a tool check them as the app's
 * do; a catalog recorded before references were has none to check, and a reference to an
 * entity the catalog does not hold is left out.
 */
export function definitionsFromCatalog(entities: readonly CatalogEntity[]): EntityDefinition[] {
  const classes = new Map(entities.map((entity) => [entity.name, { [entity.name]: class {} }[entity.name] as Type<object>]));
  return entities.map((entity) => {
    const fields: FieldDefinition[] = entity.fields.map((field) => Object.freeze({ ...field, constraints: Object.freeze({}) }));
    // An export of one entity carries only its catalog entry: a reference to an entity it does
    // not hold cannot be checked here, and the app's next start records the whole catalog again.
    const references = (entity.references ?? []).flatMap(({ field, target, onDelete, as }) => {
      const targetClass = classes.get(target);
      return targetClass ? [Object.freeze({ field, target: () => targetClass, onDelete, ...(as !== undefined && { as }) })] : [];
    });
    return Object.freeze({
      target: classes.get(entity.name)!,
      name: entity.name,
      path: entity.path,
      fields: Object.freeze(fields),
      fieldsByName: new Map(fields.map((field) => [field.name, field])),
      indexes: Object.freeze(entity.indexes.map((index) => Object.freeze({ ...index, fields: Object.freeze([...index.fields]) }))),
      references: Object.freeze(references),
      audited: entity.audited,
      softDelete: entity.softDelete ?? false,
      // The steps themselves are code, which a catalog cannot hold: tools migrate nothing.
      version: entity.version ?? 1,
      migrations: Object.freeze([]),
    });
  });
}

/** The catalog entry of a definition; with `entityNameOf`, which names the entity of a reference's class, its references too. */
export function catalogEntityOf(definition: EntityDefinition, entityNameOf?: (target: Function) => string): CatalogEntity {
  return {
    name: definition.name,
    path: definition.path,
    fields: definition.fields.map((field) => ({
      name: field.name,
      type: field.type,
      required: field.required,
      ...(field.default !== undefined && { default: field.default }),
      immutable: field.immutable,
      hidden: field.hidden,
      history: field.history,
    })),
    indexes: definition.indexes.map((index) => ({ name: index.name, fields: [...index.fields], unique: index.unique })),
    audited: definition.audited,
    ...(definition.softDelete && { softDelete: true }),
    ...(definition.version > 1 && { version: definition.version }),
    ...(entityNameOf &&
      definition.references.length > 0 && {
        references: definition.references.map(({ field, target, onDelete, as }) => ({
          field,
          target: entityNameOf(target()),
          onDelete,
          ...(as !== undefined && { as }),
        })),
      }),
  };
}

/** Names the entity of each class among `definitions`; a class that is none of them fails, naming it. */
export function entityNamesOf(definitions: readonly EntityDefinition[]): (target: Function) => string {
  const names = new Map<Function, string>(definitions.map((definition) => [definition.target, definition.name]));
  return (target) => {
    const name = names.get(target);
    if (name === undefined) throw new Error(`${target.name} is referred to but is not an entity of this store`);
    return name;
  };
}
