import type { Type } from '@nestjs/common';
import type { Database } from 'lmdb';
import type { FieldType, HistoryPolicy } from '../metadata/decorator-options.interface.js';
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
  for (const definition of definitions) meta.putSync([...ENTITY_KEY, definition.name], catalogEntityOf(definition));
  meta.putSync(OPTIONS_KEY, {
    ...(options.eventRetention && { eventRetention: { ...options.eventRetention } }),
    ...(options.idempotencyTtl !== undefined && { idempotencyTtl: options.idempotencyTtl }),
  });
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
    return readCatalog(environment.database(META_DB));
  } finally {
    await environment.close();
  }
}

/**
 * A definition rebuilt from the catalog, for storage work only: its class is an empty
 * stand-in named after the entity, and it carries no permissions, cache or validators.
 */
export function definitionFromCatalog(entity: CatalogEntity): EntityDefinition {
  const target = { [entity.name]: class {} }[entity.name] as Type<object>;
  const fields: FieldDefinition[] = entity.fields.map((field) => Object.freeze({ ...field, constraints: Object.freeze({}) }));
  return Object.freeze({
    target,
    name: entity.name,
    path: entity.path,
    fields: Object.freeze(fields),
    fieldsByName: new Map(fields.map((field) => [field.name, field])),
    indexes: Object.freeze(entity.indexes.map((index) => Object.freeze({ ...index, fields: Object.freeze([...index.fields]) }))),
    // The catalog does not record references: the tools that write (import, drop-fields) do not check them.
    references: Object.freeze([]),
    audited: entity.audited,
    softDelete: entity.softDelete ?? false,
  });
}

export function catalogEntityOf(definition: EntityDefinition): CatalogEntity {
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
  };
}
