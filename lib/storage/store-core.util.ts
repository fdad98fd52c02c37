import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { ChangeApplier } from './change-applier.service.js';
import type { ChangeWriter, StoreCompanion } from './entity-projection.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import type { EventLog } from './event-log.store.js';
import type { IdempotencyStore } from './idempotency.store.js';
import type { LmdbEnvironment } from './lmdb-environment.store.js';
import { SchemaVersions } from './schema-versions.store.js';
import { checkStoreFormat } from './store-format.util.js';
import { maxDbsFor, META_DB, openSharedDatabases } from './store-layout.util.js';

/** What every open store has whatever its entities: the log, idempotency results, schema versions and the one change applier. */
export interface StoreCore {
  log: EventLog;
  idempotency: IdempotencyStore;
  schemaVersions: SchemaVersions;
  applier: ChangeApplier;
}

/**
 * Opens the environment with room for the databases of `definitions` and `companions`, then
 * the companions' databases (their changes go through `writer`) and the store's shared ones.
 * The applier finds an entity's tables through `tablesNamed`.
 */
export function openStoreCore(
  environment: LmdbEnvironment,
  definitions: readonly EntityDefinition[],
  companions: readonly StoreCompanion[],
  writer: ChangeWriter,
  idempotencyTtl: number,
  tablesNamed: (entity: string) => EntityTables | undefined,
): StoreCore {
  environment.open(maxDbsFor(definitions, companions));
  // Before any database is created: a store in a newer format is refused untouched.
  checkStoreFormat(environment.database(META_DB), environment.path);
  for (const companion of companions) companion.open(writer);
  const { log, idempotency } = openSharedDatabases(environment, idempotencyTtl);
  const schemaVersions = new SchemaVersions(environment.database(META_DB));
  return { log, idempotency, schemaVersions, applier: new ChangeApplier(log, idempotency, tablesNamed, schemaVersions, companions) };
}
