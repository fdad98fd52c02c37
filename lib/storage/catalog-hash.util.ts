import { createHash } from 'node:crypto';
import type { Database } from 'lmdb';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { IndexKey } from './index-key.util.js';
import { versionsKept } from './field-history.store.js';
import { lastAppliedCatalog } from './replication-position.util.js';
import { catalogEntityOf, definitionsFromCatalog, type CatalogEntity, type StoreCatalog } from './store-catalog.util.js';

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

/**
 * The catalogs a message in the stream before this start may have been decided under besides
 * `definitions`' own: that of the definitions the store was last opened with (and, in a store
 * that recorded none, of the last message it applied), when events apply to `definitions` as
 * they did to those. None when they
 * would not: the instances that applied the messages before stopping would then hold other
 * stores than this one applying them now.
 */
export function earlierCatalogsOf(meta: Database<unknown, IndexKey>, previous: StoreCatalog | undefined, definitions: readonly EntityDefinition[]): string[] {
  if (
    !previous ||
    !definitions.every((definition) =>
      appliesAlike(
        previous.entities.find((entity) => entity.name === definition.name),
        definition,
      ),
    )
  )
    return [];
  const recorded = meta.get(CATALOG_HASH_KEY);
  if (typeof recorded === 'string') return [recorded];
  // A store last opened by a version that recorded no hash: the catalog worked out from may list
  // entities that version no longer registered, which the last message applied tells past.
  const catalogs = [catalogHash(definitionsFromCatalog(previous.entities)), lastAppliedCatalog(meta)].filter(
    (catalog): catalog is string => catalog !== undefined,
  );
  return [...new Set(catalogs)];
}

/**
 * Whether an event applies to `definition` as it did to `earlier`: the same audit trail and
 * deleted records, no unique index the earlier one lacked (an event could break it), and no
 * field keeping more history than before (a narrowed policy trims to what applying under it
 * keeps; a widened one would keep values the others never had) nor a removed one that kept any.
 * An audited entity also keeps its fields, in order, and which are hidden: each instance writes
 * the audit entry of a change as it applies it, listing the fields its class declares and
 * masking its hidden ones.
 */
function appliesAlike(earlier: CatalogEntity | undefined, definition: EntityDefinition): boolean {
  if (!earlier) return true;
  if (earlier.audited !== definition.audited || (earlier.softDelete ?? false) !== definition.softDelete) return false;
  if (definition.audited && !sameFieldsHidden(earlier, definition)) return false;
  const uniqueBefore = new Set(earlier.indexes.filter((index) => index.unique).map((index) => JSON.stringify([index.name, index.fields])));
  if (definition.indexes.some((index) => index.unique && !uniqueBefore.has(JSON.stringify([index.name, index.fields])))) return false;
  return earlier.fields.every((field) => {
    const now = definition.fieldsByName.get(field.name);
    return now ? versionsKept(now.history) <= versionsKept(field.history) : field.history === 'never';
  });
}

function sameFieldsHidden(earlier: CatalogEntity, definition: EntityDefinition): boolean {
  // Not even one added: a record may still hold a value of a field declared before and removed
  // since, which the entry lists once it is declared again. In order: entries list them so.
  return (
    earlier.fields.length === definition.fields.length &&
    earlier.fields.every((field, at) => definition.fields[at]!.name === field.name && definition.fields[at]!.hidden === (field.hidden ?? false))
  );
}
