import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import { HistoryTrimmer } from './history-trimmer.service.js';
import type { IndexBuilder } from './index-builder.service.js';
import type { IndexKey } from './index-key.util.js';
import type { LmdbEnvironment } from './lmdb-environment.store.js';
import { recordCatalogHash } from './catalog-hash.util.js';
import { recordCatalog, type CatalogOptions, type StoreCatalog } from './store-catalog.util.js';
import { migrateStoreFormat, recordStoreFormat } from './store-format.util.js';
import type { EventLog } from './event-log.store.js';
import { META_DB } from './store-layout.util.js';

/**
 * Brings the store in line with the definitions an app opens it with, before it serves:
 * the data moves to this version's format, indexes new or changed since the last open are
 * built, and history is trimmed to narrowed `@Historize` policies. The catalog is recorded
 * after that (`recordDefinitions`), once migrations have run too.
 */
export async function reconcileWithDefinitions(
  environment: LmdbEnvironment,
  indexBuilder: IndexBuilder,
  entities: readonly EntityTables[],
  log: EventLog,
  /** The catalog as the last open recorded it, which narrowed history policies are told from. */
  previous: StoreCatalog | undefined,
  replicated = false,
): Promise<void> {
  const meta = environment.database<unknown, IndexKey>(META_DB);
  await migrateStoreFormat(environment, meta, log, entities);
  await indexBuilder.reconcile(entities);
  await new HistoryTrimmer(environment, undefined, !replicated).reconcile(entities, previous);
  await environment.write(() => recordStoreFormat(meta));
}

/**
 * Records the definitions and `options` as the store's catalog, once the indexes, the history
 * and the records match them: a tool trusts the catalog's indexes as built and its fields as
 * what the records hold, and a narrowed history policy or a migration cut short is told from
 * the catalog before it.
 */
export async function recordDefinitions(environment: LmdbEnvironment, definitions: readonly EntityDefinition[], options: CatalogOptions): Promise<void> {
  const meta = environment.database<unknown, IndexKey>(META_DB);
  await environment.write(() => {
    recordCatalog(meta, definitions, options);
    recordCatalogHash(meta, definitions);
  });
}
