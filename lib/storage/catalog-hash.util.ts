import { createHash } from 'node:crypto';
import type { Database } from 'lmdb';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { IndexKey } from './index-key.util.js';
import { catalogEntityOf, definitionsFromCatalog, type StoreCatalog } from './store-catalog.util.js';

const CATALOG_HASH_KEY: IndexKey = ['catalog', 'hash'];

/**
 * A hash of how the entities' records, indexes and history are stored: instances that disagree
 * on it would apply the same change differently.
 */
export function catalogHash(definitions: readonly EntityDefinition[]): string {
  // Without references: the instance that decides a change applies their rules and ships the
  // outcome as events, so instances that name or handle them differently apply it the same.
  const entities = [...definitions].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((definition) => catalogEntityOf(definition));
  return createHash('sha256').update(JSON.stringify(entities)).digest('base64url').slice(0, 22);
}

/** Records the hash of the definitions an app opened the store with, beside their catalog. */
export function recordCatalogHash(meta: Database<unknown, IndexKey>, definitions: readonly EntityDefinition[]): void {
  meta.putSync(CATALOG_HASH_KEY, catalogHash(definitions));
}

/**
 * The hash of the definitions the store was last opened with, as recorded; for a store last
 * opened by a version that recorded none, as worked out from its catalog.
 */
export function recordedCatalogHash(meta: Database<unknown, IndexKey>, catalog: StoreCatalog | undefined): string | undefined {
  const recorded = meta.get(CATALOG_HASH_KEY);
  if (typeof recorded === 'string') return recorded;
  return catalog && catalogHash(definitionsFromCatalog(catalog.entities));
}
