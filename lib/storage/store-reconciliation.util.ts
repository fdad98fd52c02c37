import type { EntityTables } from './entity-tables.interface.js';
import { HistoryTrimmer } from './history-trimmer.service.js';
import type { IndexBuilder } from './index-builder.service.js';
import type { IndexKey } from './index-key.util.js';
import type { LmdbEnvironment } from './lmdb-environment.store.js';
import { readCatalog, recordCatalog, type CatalogOptions } from './store-catalog.util.js';
import { migrateStoreFormat, recordStoreFormat } from './store-format.util.js';
import type { EventLog } from './event-log.store.js';
import { META_DB } from './store-layout.util.js';

/**
 * Brings the store in line with the definitions an app opens it with, before it serves:
 * the data moves to this version's format, indexes new or changed since the last open are built, history is trimmed to narrowed
 * `@Historize` policies, and the catalog records the definitions and `options` (with the
 * store's format).
 */
export async function reconcileWithDefinitions(
  environment: LmdbEnvironment,
  indexBuilder: IndexBuilder,
  entities: readonly EntityTables[],
  options: CatalogOptions,
  log: EventLog,
): Promise<void> {
  const meta = environment.database<unknown, IndexKey>(META_DB);
  await migrateStoreFormat(environment, meta, log);
  await indexBuilder.reconcile(entities);
  await new HistoryTrimmer(environment).reconcile(entities, readCatalog(meta));
  // Recorded once the indexes and the history match it: a tool trusts the catalog's indexes
  // as built, and a narrowed history policy is told from the catalog before it.
  const definitions = entities.map((tables) => tables.definition);
  await environment.write(() => {
    recordStoreFormat(meta);
    recordCatalog(meta, definitions, options);
  });
}
