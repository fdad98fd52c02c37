import { Logger } from '@nestjs/common';
import type { EntityDefinition, ReferenceDefinition } from '../metadata/entity-definition.interface.js';
import type { EventRetention, StorageOptions } from '../common/storage-options.interface.js';
import { cursorKeyFromSecret, loadCursorKey } from './cursor-key.util.js';
import type { EntityEvent } from './entity-event.interface.js';
import type { EntityProjection, StoreCompanion } from './entity-projection.interface.js';
import { EntityRegistry } from './entity-registry.service.js';
import type { ChangeMark, EntityTables } from './entity-tables.interface.js';
import type { EventLog } from './event-log.store.js';
import { changeMarkKey } from './event-applier.util.js';
import { replayEvents } from './event-replay.util.js';
import type { HistoryPage, RecordHistory } from './field-history.store.js';
import { DEFAULT_IDEMPOTENCY_TTL } from './idempotency.store.js';
import { IndexBuilder } from './index-builder.service.js';
import type { IndexKey } from './index-key.util.js';
import { readPosition, type ReplicationPosition } from './replication-position.util.js';
import type { StoreChange } from './store-change.interface.js';
import { sequencedStoreOf } from './sequenced-store.util.js';
import { migratesManually } from './migrate-option.util.js';
import type { WriteSequencer } from './write-sequencer.interface.js';
import type { LmdbEnvironment } from './lmdb-environment.store.js';
import { StorageFailureException } from './storage-failure.exception.js';
import type { MaintenanceResult } from './maintenance-result.interface.js';
import { META_DB, openEntityTables } from './store-layout.util.js';
import { reconcileWithDefinitions, recordDefinitions } from './store-reconciliation.util.js';
import { DEFAULT_MAINTENANCE_INTERVAL, maintainInBatches, scheduleMaintenance } from './store-maintenance.util.js';
import { checkStoreFormat, migrateStoreFormat, recordStoreFormat } from './store-format.util.js';
import { LogWatcher } from './log-watcher.util.js';
import { verifyStore, type VerifyReport } from './store-verifier.util.js';
import { danglingReferences, describeDangling, type DanglingReference } from './dangling-references.util.js';
import { StoreWriters, type StoreWriter } from './store-writers.store.js';
import { finished, WriteTransaction } from './write-transaction.store.js';
import type { SchemaVersions } from './schema-versions.store.js';
import { openStoreCore, type StoreCore } from './store-core.util.js';
import { SchemaMigrator, type MigrationRunOptions } from './schema-migrator.service.js';
import { refusePendingMigrations, runPendingMigrations } from './start-up-migrations.util.js';
import { readCatalog } from './store-catalog.util.js';
import { earlierCatalogsOf } from './catalog-hash.util.js';
import { storedShapeWarnings } from './stored-shape-warnings.util.js';

/**
 * All entities of one data directory: their LMDB databases, the event log, and the one
 * way to change them (`write`). Internal to the package: applications maintain the store
 * through `EntitiesMaintenance`.
 */
export class EntityStorage {
  private readonly logger = new Logger('EntitiesStorage');
  private readonly registry = new EntityRegistry();
  private readonly tables = new Map<string, EntityTables>();
  private core?: StoreCore;
  /** Takes records through their entities' `migrations`. */
  readonly migrations = new SchemaMigrator(this);
  private opening?: Promise<void>;
  private maintenance?: NodeJS.Timeout;
  /**
   * Subscriptions to the log (`watch`); ended when the app shuts down, before the HTTP
   * server closes, which would otherwise wait for the open change streams.
   */
  readonly subscriptions = new LogWatcher(() => {
    // Other processes append too: each poll reads the log as every process committed it.
    this.renewSnapshot();
    return this.log.lastSeq();
  });
  /** Set while `close` runs: a write begun then is refused, those begun before finish. */
  private closing = false;
  private closed?: Promise<void>;
  private sealingKey?: Buffer;
  private readonly indexBuilder: IndexBuilder;
  private readonly writerList: StoreWriters;

  constructor(
    readonly environment: LmdbEnvironment,
    private readonly options: StorageOptions = {},
    private readonly projections: readonly EntityProjection[] = [],
    private readonly companions: readonly StoreCompanion[] = [],
    /** Orders every write with those of other instances (replication); without it writes commit here. */
    private readonly sequencer?: WriteSequencer,
  ) {
    this.indexBuilder = new IndexBuilder(environment, META_DB);
    this.writerList = new StoreWriters(environment, META_DB);
  }

  /** Adds an entity; a second entity with the same name or path fails start-up. */
  register(definition: EntityDefinition): void {
    if (this.registry.add(definition) && this.environment.isOpen) {
      this.registry.checkReferences();
      this.tablesOf(definition);
    }
  }

  /** The seq of the last replicated message this store applied; 0 for a store that never was replicated. */
  replicatedSeq(): number {
    return this.replicationPosition().seq;
  }

  /** The last replicated message this store applied, as every process has committed it so far. */
  private replicationPosition(): ReplicationPosition {
    this.renewSnapshot();
    return readPosition(this.environment.database<unknown, IndexKey>(META_DB));
  }

  /** What orders this store's writes with other instances', when it is replicated. */
  get replication(): WriteSequencer | undefined {
    return this.sequencer;
  }

  /** Called by each generated controller: one entity's routes may be served once. */
  claimRoutes(definition: EntityDefinition): void {
    this.registry.claimRoutes(definition);
  }

  /** Called by each nested list controller: see `EntityRegistry.claimNestedRoute`. */
  claimNestedRoute(target: EntityDefinition, source: EntityDefinition): void {
    this.registry.claimNestedRoute(target, source);
  }

  /** The definition registered for an entity class. */
  definitionOf(target: Function): EntityDefinition {
    return this.registry.of(target);
  }

  /** The entity a reference of `source` points to. */
  referenceTarget(source: EntityDefinition, reference: ReferenceDefinition): EntityDefinition {
    return this.registry.targetOf(source, reference);
  }

  registered(): EntityDefinition[] {
    return this.registry.all();
  }

  /**
   * Opens the environment, brings every index in line with its definition and runs pending
   * migrations (unless `migrate: 'manual'`). Records the registered definitions and storage
   * options (the catalog the command line works from) and this process as a writer
   * (`writerRole`, default `app`) until `close()`. Idempotent. A tool that opens the store as
   * an app would (`migrate`) passes `admit`, which may refuse the open by throwing once this
   * process is listed as a writer and before anything else is written, and how migrations run.
   * Without `admit` (an app), an open that would move an older store to this version's format
   * refuses while a process of an older version writes to it on this host (see `StoreWriters.refuseOlderWriters`).
   */
  open(writerRole = 'app', tool: { admit?: () => void; migration?: MigrationRunOptions } = {}): Promise<void> {
    this.opening ??= this.openOnce(writerRole, tool);
    return this.opening;
  }

  /**
   * Opens the environment for a maintenance tool: no index is rebuilt, no maintenance runs
   * and nothing is written, unless `writerRole` is given, which lists this process as a
   * writer (e.g. `cli import`) until `close()` and brings the store to this version's format.
   * `admit` may refuse the tool by throwing, once it is listed and before the format moves:
   * a store another process writes in its older format must stay in it.
   */
  attach(writerRole?: string, admit?: () => void): Promise<void> {
    this.opening ??= this.attachOnce(writerRole, admit);
    return this.opening;
  }

  /** The processes listed as having this store open to write, as of now; some may have died since. */
  writers(): StoreWriter[] {
    this.renewSnapshot();
    return this.writerList.list();
  }

  /** The other processes listed that may still be writing to this store, as of now (see `StoreWriters.others`). */
  otherWriters(): StoreWriter[] {
    this.renewSnapshot();
    return this.writerList.others();
  }

  private async openOnce(writerRole: string, { admit, migration }: { admit?: () => void; migration?: MigrationRunOptions }): Promise<void> {
    this.subscriptions.renew();
    // A secret too short fails start-up before anything is written.
    const secretKey = this.options.cursorSecret === undefined ? undefined : cursorKeyFromSecret(this.options.cursorSecret);
    this.registry.checkReferences();
    this.openDatabases();
    await this.environment.caughtUp();
    // Checked before anything is written; `reconcileWithDefinitions` records this version's.
    checkStoreFormat(this.environment.database(META_DB), this.environment.path);
    const definitions = this.registry.all();
    const manual = migratesManually(this.options.migrate, !!this.sequencer);
    this.migrations.checkNotNewer(definitions);
    if (manual) refusePendingMigrations(this.migrations, definitions, (definition) => this.tablesOf(definition));
    await this.writerList.enroll(writerRole);
    // A tool's `admit` decides about other writers (the command line's --force overrides it).
    if (admit) admit();
    else this.writerList.refuseOlderWriters((message) => this.logger.warn(message));
    this.sealingKey = secretKey ?? (await loadCursorKey(this.environment));
    const { eventRetention, idempotencyTtl } = this.options;
    const entities = definitions.map((definition) => this.tablesOf(definition));
    const previous = readCatalog(this.environment.database(META_DB));
    const earlierCatalogs = earlierCatalogsOf(this.environment.database(META_DB), previous, definitions);
    await reconcileWithDefinitions(this.environment, this.indexBuilder, entities, this.log, previous, !!this.sequencer);
    // Maintenance is a change like any other: with replication it waits until this store has caught up.
    await this.sequencer?.start(
      sequencedStoreOf(
        this.environment,
        this.registry.all(),
        (applied) => this.transaction(applied),
        () => this.replicationPosition(),
        () => this.hasLocalChanges(),
        earlierCatalogs,
      ),
    );
    // Another instance may have migrated further while this one was stopped.
    if (this.sequencer) this.migrations.checkNotNewer(definitions);
    await runPendingMigrations(this.migrations, definitions, (definition) => this.tablesOf(definition), this.logger, migration);
    for (const warning of storedShapeWarnings(previous, definitions, (definition) => this.tablesOf(definition))) this.logger.warn(warning);
    await recordDefinitions(this.environment, definitions, { eventRetention, idempotencyTtl });
    // One batch: start-up need not wait on a backlog, which the scheduled runs work off. Replicated,
    // a stream that takes no writes now (no quorum) must not keep an instance from serving reads.
    await this.maintain(Date.now(), this.options.eventRetention, 1).catch((error: Error) => {
      if (!this.sequencer) throw error;
      this.logger.warn(`maintenance at start-up failed, the scheduled runs try again: ${error.message}`);
    });
    this.maintenance = scheduleMaintenance(() => this.runMaintenance(), this.options.maintenanceInterval ?? DEFAULT_MAINTENANCE_INTERVAL, this.logger);
  }

  private async attachOnce(writerRole: string | undefined, admit: (() => void) | undefined): Promise<void> {
    this.subscriptions.renew();
    this.openDatabases();
    await this.environment.caughtUp();
    const meta = this.environment.database<unknown, IndexKey>(META_DB);
    checkStoreFormat(meta, this.environment.path);
    if (writerRole !== undefined) await this.writerList.enroll(writerRole);
    admit?.();
    if (writerRole === undefined) return;
    // A tool that writes writes this version's format.
    await migrateStoreFormat(
      this.environment,
      meta,
      this.log,
      this.registry.all().map((definition) => this.tablesOf(definition)),
    );
    await this.environment.write(() => recordStoreFormat(meta));
  }

  /** Every database is opened here, outside any write: one first opened in a write that rolls back is dead. */
  private openDatabases(): void {
    const companions = [...this.projections, ...this.companions];
    const core = openStoreCore(this.environment, this.registry.all(), companions, this, this.options.idempotencyTtl ?? DEFAULT_IDEMPOTENCY_TTL, (entity) => {
      const definition = this.registry.named(entity);
      return definition && this.tablesOf(definition);
    });
    this.core = core;
    for (const definition of this.registry.all()) this.tablesOf(definition);
  }

  /** The key that seals list cursors, shared by every process on this directory. */
  get cursorKey(): Buffer {
    if (!this.sealingKey) throw new Error('the entity store is not open yet');
    return this.sealingKey;
  }

  get log(): EventLog {
    return this.opened().log;
  }

  /** Each entity's schema version as stored (see `SchemaVersions`). */
  get schema(): SchemaVersions {
    return this.opened().schemaVersions;
  }

  private opened(): StoreCore {
    if (!this.core) throw new Error('the entity store is not open yet');
    return this.core;
  }

  tablesOf(definition: EntityDefinition): EntityTables {
    let tables = this.tables.get(definition.name);
    if (!tables) {
      if (!this.registry.named(definition.name)) this.register(definition);
      tables = openEntityTables(this.environment, definition, this.projections);
      this.tables.set(definition.name, tables);
    }
    return tables;
  }

  /**
   * Runs `fn` in one LMDB write transaction and resolves once it is durable. Everything
   * `fn` changes, in any entity, commits together or not at all.
   */
  write<R>(fn: (tx: WriteTransaction) => R): Promise<R> {
    const nested = this.environment.refuseNestedWrite();
    if (nested) return nested;
    if (this.closing) return Promise.reject(new StorageFailureException(`the store at ${this.environment.path} is closing; nothing was stored`, false));
    const sequencer = this.sequencer;
    const run = sequencer ? () => sequencer.write(fn) : () => this.environment.write(() => finished(this.transaction(), fn));
    return this.options.observer ? this.options.observer.transaction(run) : run();
  }

  private transaction(applied?: StoreChange[]): WriteTransaction {
    if (!this.core) throw new StorageFailureException(`the store at ${this.environment.path} is not open`, false);
    return new WriteTransaction((definition) => this.tablesOf(definition), this.registry, this.core.applier, this.core.idempotency, applied);
  }

  /** Whether the store holds changes no replicated message made (see `SequencedStore.hasLocalChanges`). */
  private hasLocalChanges(): boolean {
    this.renewSnapshot();
    // Compaction keeps the newest event, so a log that ever held one still does. Grants, the
    // audit of refused writes and idempotency results are state without events.
    return (
      this.log.lastSeq() > 0 ||
      this.opened().idempotency.holdsResults() ||
      [...this.projections, ...this.companions].some((companion) => companion.holdsState())
    );
  }

  /** Writes a heartbeat into the store and resolves once it is durable: proof that the store takes writes now. */
  async probeWrite(): Promise<void> {
    const meta = this.environment.database<number, IndexKey>(META_DB);
    await this.environment.write(() => meta.putSync(['health'], Date.now()));
  }

  /**
   * The entity's change mark as every process sees it now (the read snapshot is renewed
   * first): how many changes it has had and the id of the last one.
   */
  changeMark(definition: EntityDefinition): ChangeMark {
    this.renewSnapshot();
    return this.tablesOf(definition).counters.get(changeMarkKey(definition.name)) ?? { count: 0, lastEventId: '' };
  }

  /** How many repairs rebuilt the entity's indexes (`rebuildIndexes`), as of the snapshot `changeMark` renewed. */
  reindexedCount(definition: EntityDefinition): number {
    return this.indexBuilder.reindexedCount(definition);
  }

  /**
   * Makes the next reads see every commit made so far, by any process. lmdb reuses one
   * read snapshot until a timer fires; a request must not read from before a write that
   * another process has already acknowledged.
   */
  renewSnapshot(): void {
    this.environment.renewSnapshot();
  }

  /** Whether a record with this id exists or existed (a deleted one leaves history behind). */
  existed(definition: EntityDefinition, id: string): boolean {
    const tables = this.tablesOf(definition);
    return tables.records.doesExist(id) || tables.history.holdsAny(id);
  }

  /** A record's field history (the values `page` picks), or `undefined` if no record with this id ever existed. */
  history(definition: EntityDefinition, id: string, page?: HistoryPage): RecordHistory | undefined {
    const tables = this.tablesOf(definition);
    return tables.history.read(id, tables.records.doesExist(id), page);
  }

  /** Events with a seq greater than `afterSeq`, oldest first, `limit` at most. */
  events(afterSeq = 0, limit = 1000): EntityEvent[] {
    return this.log.read(afterSeq, limit);
  }

  /** Applies events made elsewhere (a replica, a backup of the log); each must carry the next seq of this store's log. */
  replay(events: readonly EntityEvent[]): Promise<void> {
    if (this.sequencer) return Promise.reject(new Error('a replicated store changes only through its stream: replay is refused'));
    return this.environment.write(() => replayEvents(this.log, events, this.transaction()));
  }

  /**
   * Checks records, indexes, unique constraints, history, the log and the audit trail; lists every inconsistency.
   * `onProgress` hears, as the walk goes, how many more entries were checked.
   */
  verify(onProgress?: (checked: number) => void): VerifyReport {
    const report = verifyStore(
      this.registry.all().map((definition) => this.tablesOf(definition)),
      this.log,
      this.projections,
      onProgress,
    );
    const problems = [...report.problems, ...this.danglingReferences().map(describeDangling)];
    return { ...report, ok: problems.length === 0, problems };
  }

  /** The live records (all, or `only` these ids by entity name) that refer to a record the store does not hold. */
  danglingReferences(only?: ReadonlyMap<string, Iterable<string>>): DanglingReference[] {
    this.renewSnapshot();
    return danglingReferences(
      this.registry.all().map((definition) => this.tablesOf(definition)),
      (source, reference) => this.tablesOf(this.registry.targetOf(source, reference)),
      only,
    );
  }

  /**
   * Rebuilds the indexes of one entity, or of all, from the records. Runs at start-up for
   * indexes that are new or changed since the store was last opened. `onProgress` hears, as
   * it goes, how many more index entries were written.
   */
  async rebuildIndexes(definition?: EntityDefinition, onProgress?: (entries: number) => void): Promise<void> {
    const targets = definition ? [definition] : this.registry.all();
    await this.indexBuilder.rebuildAll(
      targets.map((target) => this.tablesOf(target)),
      onProgress,
    );
  }

  /** Forgets expired idempotency keys and drops events past the retention policy (by default the module's). */
  runMaintenance(now = Date.now(), retention: EventRetention | undefined = this.options.eventRetention): Promise<MaintenanceResult> {
    return this.maintain(now, retention, Infinity);
  }

  /** At most `batches` maintenance transactions, fewer once nothing is left or the store closes. */
  private maintain(now: number, retention: EventRetention | undefined, batches: number): Promise<MaintenanceResult> {
    const sequencer = this.sequencer;
    const purge = () => this.transaction().purge(now, retention);
    if (!sequencer)
      return maintainInBatches(
        () => this.environment.write(purge),
        batches,
        () => this.closing,
      );
    // A purge changes the log like any write: replicated, every instance drops the same events at
    // the same place in the stream. One that would drop nothing here needs no word from the stream.
    const batch = (): Promise<MaintenanceResult> => {
      const dropping = this.environment.dryRun(purge);
      if (dropping.idempotencyKeys === 0 && dropping.events === 0) return Promise.resolve(dropping);
      return sequencer.write((tx) => tx.purge(now, retention));
    };
    return maintainInBatches(batch, batches, () => this.closing);
  }

  /** Closes the store; a second call meanwhile waits for the first. It may be opened again after. */
  close(): Promise<void> {
    this.closed ??= this.closeOnce().finally(() => {
      this.closing = false;
      this.closed = undefined;
    });
    return this.closed;
  }

  private async closeOnce(): Promise<void> {
    this.closing = true;
    // Also when no app shutdown hook ended them first (the storage closed on its own).
    this.subscriptions.end();
    await this.opening?.catch(() => undefined);
    // After the open it may have waited for, which schedules maintenance as it ends.
    clearInterval(this.maintenance);
    // A replicated store's close answers the writes waiting on the stream; the others settle as they commit.
    await this.sequencer?.close();
    await this.environment.writesSettled();
    await this.writerList.withdraw();
    this.tables.clear();
    this.core = undefined;
    this.opening = undefined;
    await this.environment.close();
  }
}
