import type { Database } from 'lmdb';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityProjection, StoreCompanion } from './entity-projection.interface.js';
import type { EntityEvent } from './entity-event.interface.js';
import type { ChangeMark, EntityTables } from './entity-tables.interface.js';
import { EventLog } from './event-log.store.js';
import { FieldHistory, type FieldHistoryEntry } from './field-history.store.js';
import { IdempotencyStore } from './idempotency.store.js';
import type { IndexKey } from './index-key.util.js';
import type { LmdbEnvironment } from './lmdb-environment.store.js';
import { RECORD_LISTING_DB } from './record-listing.util.js';

/*
 * The databases of a store in its LMDB environment: the shared ones named here, then per
 * entity `<name>.records`, `<name>.index.<index>` (`<name>.history` in a store older than format 6) and, with soft delete,
 * `<name>.deleted` (id → deleted record, outside every index), and those of the
 * companions (audit trail, grants).
 */
const LOG_DB = '_log';
/** Catalog, change marks, index signatures, writers, the cursor key, the log's last seq. */
export const META_DB = '_meta';
const IDEMPOTENCY_DB = '_idempotency';
const IDEMPOTENCY_EXPIRY_DB = '_idempotency.expiry';
const SHARED_DBS = 5;
/** Room for entities registered after the environment opened (lmdb's maxDbs is fixed per open). */
const SPARE_DBS = 16;

/** The `maxDbs` to open the environment with. */
export function maxDbsFor(definitions: readonly EntityDefinition[], companions: readonly StoreCompanion[]): number {
  const perEntity = definitions.reduce((sum, definition) => sum + 2 + definition.indexes.length + (definition.softDelete ? 1 : 0), 0);
  const theirs = companions.reduce((sum, companion) => sum + companion.databaseCount, 0);
  return SHARED_DBS + perEntity + theirs + SPARE_DBS;
}

/** Opens the databases every store has, whatever its entities. */
export function openSharedDatabases(environment: LmdbEnvironment, idempotencyTtl: number): { log: EventLog; idempotency: IdempotencyStore } {
  const meta = environment.database<unknown, IndexKey>(META_DB);
  return {
    log: new EventLog(environment.database<EntityEvent, number>(LOG_DB), environment.database<null, IndexKey>(RECORD_LISTING_DB), meta),
    idempotency: new IdempotencyStore(environment.database(IDEMPOTENCY_DB), environment.database(IDEMPOTENCY_EXPIRY_DB), idempotencyTtl),
  };
}

/** `<entity>.history`, where a store older than format 6 kept the entity's history, while it holds entries. */
function legacyHistory(environment: LmdbEnvironment, definition: EntityDefinition): Database<FieldHistoryEntry, IndexKey> | undefined {
  const name = `${definition.name}.history`;
  if (!environment.hasDatabase(name)) return undefined;
  const db = environment.database<FieldHistoryEntry, IndexKey>(name);
  // One key says enough (lmdb's count ignores a limit and would walk them all).
  for (const key of db.getKeys({ limit: 1 })) if (key !== undefined) return db;
  return undefined;
}

/** Opens the databases of one entity, with the projections that follow its changes. */
export function openEntityTables(environment: LmdbEnvironment, definition: EntityDefinition, projections: readonly EntityProjection[]): EntityTables {
  const db = (suffix: string) => environment.database(`${definition.name}.${suffix}`);
  return {
    definition,
    records: db('records'),
    indexes: definition.indexes.map((index) => ({ index, db: db(`index.${index.name}`) })),
    ...(definition.softDelete && { deleted: db('deleted') }),
    history: new FieldHistory(definition, environment.database<FieldHistoryEntry, IndexKey>(RECORD_LISTING_DB), legacyHistory(environment, definition)),
    counters: environment.database<ChangeMark, IndexKey>(META_DB),
    projections: projections.filter((projection) => projection.follows(definition)),
  } as EntityTables;
}
