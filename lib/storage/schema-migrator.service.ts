import { EntitiesException } from '../common/entities.exception.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { DeletedRecord, StoredRecord } from './entity-event.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import { withoutDeletedAt } from './event-applier.util.js';
import { migrateRecord, type RecordMigration } from './record-migration.util.js';
import { MigrationFailedException, StoreSchemaNewerException } from './schema-migration.exception.js';
import type { MigrationProgress, SchemaState } from './schema-state.interface.js';
import type { SchemaVersions } from './schema-versions.store.js';
import type { WriteContext } from './write-context.interface.js';
import type { WriteTransaction } from './write-transaction.store.js';
import { UniqueConstraintException } from './unique-constraint.exception.js';

const PHASES: ReadonlyArray<MigrationProgress['phase']> = ['live', 'deleted'];

/** Whether the migration under way has done the record `id` of `phase`. */
function passed(progress: MigrationProgress, phase: MigrationProgress['phase'], id: string): boolean {
  if (phase !== progress.phase) return PHASES.indexOf(phase) < PHASES.indexOf(progress.phase);
  return progress.after !== undefined && id <= progress.after;
}

/** Fails when the records are at, or part way to, a newer version than `definition` declares. */
function refuseNewer(definition: EntityDefinition, state: SchemaState): void {
  const stored = Math.max(state.version, state.migrating?.to ?? 0);
  if (stored > definition.version) throw new StoreSchemaNewerException(definition.name, stored, definition.version);
}

/** Records looked at per write transaction of a migration. */
export const MIGRATION_BATCH = 1000;
/**
 * Roughly the bytes of changes per write transaction: a replicated batch is one stream
 * message, which NATS caps at 1 MiB by default, and a record's change can be large.
 */
const MIGRATION_BATCH_BYTES = 256 * 1024;
/** What an update event carries beside its data (ids, times, version), as JSON. */
const EVENT_OVERHEAD = 160;

/**
 * Records go through the steps one at a time, each checked against the others as they stand: a
 * step moving values onto ones other records hold until their turn fails, however unique the end.
 */
const TAKEN_IN_TURN =
  "each record's new values must be free when its turn comes (records go in id order): a step that moves values onto ones other records hold until theirs " +
  '(a renumbering, a swap) goes through values no record holds, one release each way';

interface BatchLimits {
  records: number;
  bytes: number;
}

/** An entity whose stored records are behind its class. */
export interface PendingMigration {
  definition: EntityDefinition;
  from: number;
  to: number;
}

/** One record a migration changes (or, in a dry run, would). */
export interface MigratedRecord {
  entity: string;
  id: string;
  deleted: boolean;
  change: RecordMigration;
}

/** One record a migration cannot take through its steps. */
export interface MigrationProblem {
  entity: string;
  id: string;
  deleted: boolean;
  problems: string[];
}

export interface MigrationRunOptions {
  /** Records looked at per write transaction at most; default 1,000. */
  batchSize?: number;
  /** About how many bytes of changes per write transaction at most; default 256 KiB. */
  batchBytes?: number;
  context?: WriteContext;
  /** Told of each record changed, once its batch is stored. */
  onRecord?: (record: MigratedRecord) => void | Promise<void>;
}

/** What the migrator needs of the store. */
export interface MigratableStore {
  readonly schema: SchemaVersions;
  tablesOf(definition: EntityDefinition): EntityTables;
  write<R>(fn: (tx: WriteTransaction) => R): Promise<R>;
  renewSnapshot(): void;
}

/**
 * Takes an entity's stored records through the migration steps they have not had. Each batch
 * is one write transaction that reads where the migration got to, changes the next records
 * (one update event each) and moves the mark on, or records the version reached: a run cut
 * short goes on from the mark, nothing is migrated twice, and with replication the batches
 * are decided and shipped like any write, so instances starting together share the work.
 */
export class SchemaMigrator {
  constructor(private readonly store: MigratableStore) {}

  /** Refuses a store any of whose entities' records are at a newer version than its class. */
  checkNotNewer(definitions: readonly EntityDefinition[]): void {
    for (const definition of definitions) refuseNewer(definition, this.store.schema.of(definition.name));
  }

  /** The entities whose records have migrations to go through, as of now. */
  pending(definitions: readonly EntityDefinition[]): PendingMigration[] {
    this.store.renewSnapshot();
    return definitions.flatMap((definition) => {
      const { version } = this.store.schema.of(definition.name);
      return version < definition.version ? [{ definition, from: version, to: definition.version }] : [];
    });
  }

  /** Runs one entity's pending migration to its end; answers how many records changed. */
  async migrate(definition: EntityDefinition, options: MigrationRunOptions = {}): Promise<number> {
    let changed = 0;
    for (;;) {
      const limits = { records: options.batchSize ?? MIGRATION_BATCH, bytes: options.batchBytes ?? MIGRATION_BATCH_BYTES };
      const batch = await this.store.write((tx) => this.batch(tx, definition, limits, options.context ?? {}));
      changed += batch.records.length;
      for (const record of batch.records) await options.onRecord?.(record);
      if (batch.done) return changed;
    }
  }

  /**
   * What the pending migration of `definition` would change, reading the records as they are
   * now and writing nothing: each record it would change, and each it could not migrate.
   */
  *dryRun(definition: EntityDefinition): Generator<MigratedRecord | MigrationProblem> {
    this.store.renewSnapshot();
    const { version, migrating } = this.store.schema.of(definition.name);
    if (version >= definition.version && !migrating) return;
    for (const phase of PHASES) {
      const source = this.source(definition, phase);
      if (!source) continue;
      const deleted = phase === 'deleted';
      for (const { key, value } of source.table.getRange({})) {
        // Steps compose: a record a run cut short has taken to its `to` goes on from there.
        const from = migrating && passed(migrating, phase, key) ? migrating.to : version;
        if (from >= definition.version) continue;
        const outcome = migrateRecord(definition, source.record(value), from, definition.version);
        if (outcome.problems) yield { entity: definition.name, id: key, deleted, problems: outcome.problems };
        else if (outcome.change && this.changes(definition, key, outcome.change)) yield { entity: definition.name, id: key, deleted, change: outcome.change };
      }
    }
  }

  /**
   * Whether a record's migration changes anything: its data, or only the history of fields it
   * renames, which a record that never held them has none of (and gets no new version for).
   */
  private changes(definition: EntityDefinition, id: string, change: RecordMigration): boolean {
    if (Object.keys(change.data).length > 0) return true;
    const { history } = this.store.tablesOf(definition);
    return Object.keys(change.renamed ?? {}).some((field) => history.holdsField(id, field));
  }

  private batch(tx: WriteTransaction, definition: EntityDefinition, limits: BatchLimits, context: WriteContext): { records: MigratedRecord[]; done: boolean } {
    const state = this.store.schema.of(definition.name);
    // Another process may have started a newer migration since this one checked at its start.
    refuseNewer(definition, state);
    if (state.version >= definition.version && !state.migrating) return { records: [], done: true };
    // A run cut short by a crash, or by a record that could not be migrated, goes on from its mark.
    const progress = state.migrating ?? { to: definition.version, phase: 'live' };
    const source = this.source(definition, progress.phase);
    const deleted = progress.phase === 'deleted';
    const records: MigratedRecord[] = [];
    let last: string | undefined;
    let looked = 0;
    let bytes = 0;
    let full = false;
    const range = source ? source.table.getRange({ ...(progress.after !== undefined && { start: progress.after }) }) : [];
    for (const { key, value } of range) {
      if (key === progress.after) continue;
      if (looked >= limits.records || bytes >= limits.bytes) {
        full = true;
        break;
      }
      looked++;
      last = key;
      const outcome = migrateRecord(definition, source!.record(value), state.version, progress.to);
      if (outcome.problems) throw new MigrationFailedException(definition.name, key, outcome.problems);
      if (!outcome.change || !this.changes(definition, key, outcome.change)) continue;
      try {
        if (deleted) tx.migrateDeleted(definition, key, outcome.change, progress.to, context);
        else tx.migrate(definition, key, outcome.change, progress.to, context);
      } catch (error) {
        // A unique value taken twice, a reference to nothing: said of the record that met it.
        if (error instanceof UniqueConstraintException) throw new MigrationFailedException(definition.name, key, [`${error.message}; ${TAKEN_IN_TURN}`]);
        if (error instanceof EntitiesException) throw new MigrationFailedException(definition.name, key, [error.message]);
        throw error;
      }
      records.push({ entity: definition.name, id: key, deleted, change: outcome.change });
      // With replication a batch travels as one message: its events must fit in one.
      bytes += (deleted ? 3 : 1) * (EVENT_OVERHEAD + JSON.stringify(outcome.change).length);
    }
    const next: SchemaState = full
      ? { version: state.version, migrating: { ...progress, after: last! } }
      : progress.phase === 'live'
        ? { version: state.version, migrating: { to: progress.to, phase: 'deleted' } }
        : { version: progress.to };
    tx.apply({ kind: 'schema', entity: definition.name, state: next });
    return { records, done: next.version >= definition.version && !next.migrating };
  }

  /** The records of one phase, each as the steps take it: a deleted one without its `deletedAt`. */
  private source(definition: EntityDefinition, phase: MigrationProgress['phase']) {
    const tables = this.store.tablesOf(definition);
    if (phase === 'live') return { table: tables.records as EntityTables['records'], record: (value: StoredRecord) => value };
    if (!tables.deleted) return undefined;
    return { table: tables.deleted as unknown as EntityTables['records'], record: (value: StoredRecord) => withoutDeletedAt(value as DeletedRecord) };
  }
}
