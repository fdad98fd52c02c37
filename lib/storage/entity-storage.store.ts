import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Database } from 'lmdb';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityEvent } from './entity-event.interface.js';
import type { EntityProjection, StoreCompanion } from './entity-projection.interface.js';
import type { ChangeMark, EntityTables } from './entity-tables.interface.js';
import { applyEvent } from './event-applier.util.js';
import { EventLog } from './event-log.store.js';
import { FieldHistory, type FieldHistoryEntry, type RecordHistory } from './field-history.store.js';
import { HistoryTrimmer } from './history-trimmer.service.js';
import { DEFAULT_IDEMPOTENCY_TTL, IdempotencyStore } from './idempotency.store.js';
import { IndexBuilder } from './index-builder.service.js';
import type { IndexKey } from './index-key.util.js';
import { LmdbEnvironment } from './lmdb-environment.store.js';
import type { LmdbTuning } from '../common/storage-options.interface.js';
import { readCatalog, recordCatalog, type StoreCatalog } from './store-catalog.util.js';
import type { EventRetention, StorageOptions } from '../common/storage-options.interface.js';
import { StoreWriters, type StoreWriter } from './store-writers.store.js';
import { verifyStore, type VerifyReport } from './store-verifier.util.js';
import { WriteTransaction } from './write-transaction.store.js';

const LOG_DB = '_log';
const META_DB = '_meta';
const IDEMPOTENCY_DB = '_idempotency';
const IDEMPOTENCY_EXPIRY_DB = '_idempotency.expiry';
const SHARED_DBS = 4;
/** Room for entities registered after the environment opened (lmdb's maxDbs is fixed per open). */
const SPARE_DBS = 16;
const DEFAULT_MAINTENANCE_INTERVAL = 60 * 60 * 1000;

/**
 * All entities of one data directory: their LMDB databases, the event log, and the one
 * way to change them (`write`). Injectable as `EntityStorage` for maintenance from code:
 * `verify()`, `rebuildIndexes()`, `events()`, `replay()`, `runMaintenance()`.
 */
export class EntityStorage {
  private readonly logger = new Logger('EntitiesStorage');
  private readonly definitions = new Map<string, EntityDefinition>();
  private readonly routed = new Set<string>();
  private readonly tables = new Map<string, EntityTables>();
  private eventLog?: EventLog;
  private idempotency?: IdempotencyStore;
  private opening?: Promise<void>;
  private maintenance?: NodeJS.Timeout;
  private sealingKey?: Buffer;
  private readonly indexBuilder: IndexBuilder;
  private readonly historyTrimmer: HistoryTrimmer;
  private readonly writerList: StoreWriters;
  /** Every write through a repository or transaction looks its entity up by class. */
  private readonly byTarget = new Map<Function, EntityDefinition>();

  constructor(
    readonly environment: LmdbEnvironment,
    private readonly options: StorageOptions = {},
    private readonly projections: readonly EntityProjection[] = [],
    private readonly companions: readonly StoreCompanion[] = [],
  ) {
    this.indexBuilder = new IndexBuilder(environment, META_DB);
    this.historyTrimmer = new HistoryTrimmer(environment);
    this.writerList = new StoreWriters(environment, META_DB);
  }

  /** Adds an entity; a second entity with the same name or path fails start-up. */
  register(definition: EntityDefinition): void {
    const existing = this.definitions.get(definition.name);
    if (existing?.target === definition.target) return;
    if (existing) {
      throw new Error(`${definition.target.name}: entity name "${definition.name}" is already used by ${existing.target.name}`);
    }
    for (const other of this.definitions.values()) {
      if (other.path === definition.path) {
        throw new Error(`${definition.target.name}: route path "/${definition.path}" is already used by ${other.target.name}`);
      }
    }
    this.definitions.set(definition.name, definition);
    this.byTarget.set(definition.target, definition);
    if (this.environment.isOpen) this.tablesOf(definition);
  }

  /** Called by each generated controller: one entity's routes may be served once. */
  claimRoutes(definition: EntityDefinition): void {
    if (this.routed.has(definition.name)) {
      throw new Error(`${definition.target.name}: is listed in more than one EntitiesModule.forFeature(); list each entity once`);
    }
    this.routed.add(definition.name);
  }

  /** The definition registered for an entity class. */
  definitionOf(target: Function): EntityDefinition {
    const definition = this.byTarget.get(target);
    if (definition) return definition;
    throw new Error(`${target.name} is not an entity of this store: list it in EntitiesModule.forFeature()`);
  }

  registered(): EntityDefinition[] {
    return [...this.definitions.values()];
  }

  /**
   * Opens the environment and brings every index in line with its definition. Records the
   * registered definitions and storage options (the catalog the command line works from)
   * and this process as a writer (`writerRole`, default `app`) until `close()`. Idempotent.
   */
  open(writerRole = 'app'): Promise<void> {
    this.opening ??= this.openOnce(writerRole);
    return this.opening;
  }

  /**
   * Opens the environment for a maintenance tool: no index is rebuilt, no maintenance runs
   * and nothing is written, unless `writerRole` is given, which lists this process as a
   * writer (e.g. `cli import`) until `close()`.
   */
  attach(writerRole?: string): Promise<void> {
    this.opening ??= this.attachOnce(writerRole);
    return this.opening;
  }

  /**
   * The catalog last recorded in the store at `path` by an app, or `undefined` if no app
   * that records one has opened it. Opens the environment briefly, read-only; the store must exist.
   */
  static async readCatalog(path: string, tuning?: LmdbTuning): Promise<StoreCatalog | undefined> {
    const environment = new LmdbEnvironment(path, tuning, true);
    environment.open(1);
    try {
      return readCatalog(environment.database(META_DB));
    } finally {
      await environment.close();
    }
  }

  /** The processes listed as having this store open to write, as of now; some may have died since. */
  writers(): StoreWriter[] {
    this.renewSnapshot();
    return this.writerList.list();
  }

  private async openOnce(writerRole: string): Promise<void> {
    this.openDatabases();
    await this.writerList.enroll(writerRole);
    this.sealingKey = await this.loadCursorKey();
    const entities = [...this.definitions.values()].map((definition) => this.tablesOf(definition));
    await this.indexBuilder.reconcile(entities);
    await this.historyTrimmer.reconcile(entities, readCatalog(this.meta()));
    // Recorded once the indexes and the history match it: a tool trusts the catalog's indexes
    // as built, and a narrowed history policy is told from the catalog before it.
    const { eventRetention, idempotencyTtl } = this.options;
    await this.environment.write(() => recordCatalog(this.meta(), [...this.definitions.values()], { eventRetention, idempotencyTtl }));
    await this.runMaintenance();
    this.maintenance = setInterval(
      () => this.runMaintenance().catch((error: Error) => this.logger.error(`maintenance failed: ${error.message}`)),
      this.options.maintenanceInterval ?? DEFAULT_MAINTENANCE_INTERVAL,
    );
    this.maintenance.unref();
  }

  private async attachOnce(writerRole: string | undefined): Promise<void> {
    this.openDatabases();
    if (writerRole !== undefined) await this.writerList.enroll(writerRole);
  }

  private meta(): Database<unknown, IndexKey> {
    return this.environment.database(META_DB);
  }

  private openDatabases(): void {
    const perEntity = [...this.definitions.values()].reduce((sum, d) => sum + 2 + d.indexes.length, 0);
    const companions = [...this.projections, ...this.companions];
    const theirs = companions.reduce((sum, companion) => sum + companion.databaseCount, 0);
    this.environment.open(SHARED_DBS + perEntity + theirs + SPARE_DBS);
    for (const companion of companions) companion.open();
    this.environment.database(META_DB);
    this.eventLog = new EventLog(this.environment.database<EntityEvent, number>(LOG_DB));
    this.idempotency = new IdempotencyStore(
      this.environment.database(IDEMPOTENCY_DB),
      this.environment.database(IDEMPOTENCY_EXPIRY_DB),
      this.options.idempotencyTtl ?? DEFAULT_IDEMPOTENCY_TTL,
    );
    for (const definition of this.definitions.values()) this.tablesOf(definition);
  }

  /** The key that seals list cursors, shared by every process on this directory. */
  get cursorKey(): Buffer {
    if (!this.sealingKey) throw new Error('the entity store is not open yet');
    return this.sealingKey;
  }

  get log(): EventLog {
    if (!this.eventLog) throw new Error('the entity store is not open yet');
    return this.eventLog;
  }

  tablesOf(definition: EntityDefinition): EntityTables {
    let tables = this.tables.get(definition.name);
    if (!tables) {
      if (!this.definitions.has(definition.name)) this.register(definition);
      const db = (suffix: string) => this.environment.database(`${definition.name}.${suffix}`);
      tables = {
        definition,
        records: db('records'),
        indexes: definition.indexes.map((index) => ({ index, db: db(`index.${index.name}`) })),
        history: new FieldHistory(definition, this.environment.database<FieldHistoryEntry, IndexKey>(`${definition.name}.history`)),
        counters: this.environment.database<ChangeMark, IndexKey>(META_DB),
        projections: this.projections.filter((projection) => projection.follows(definition)),
      } as EntityTables;
      this.tables.set(definition.name, tables);
    }
    return tables;
  }

  /**
   * Runs `fn` in one LMDB write transaction and resolves once it is durable. Everything
   * `fn` changes, in any entity, commits together or not at all.
   */
  write<R>(fn: (tx: WriteTransaction) => R): Promise<R> {
    const run = () => this.environment.write(() => fn(new WriteTransaction((definition) => this.tablesOf(definition), this.log, this.idempotency!)));
    return this.options.observer ? this.options.observer.transaction(run) : run();
  }

  /** Writes a heartbeat into the store and resolves once it is durable: proof that the store takes writes now. */
  async probeWrite(): Promise<void> {
    await this.environment.write(() => this.meta().putSync(['health'], Date.now()));
  }

  /**
   * The entity's change mark as every process sees it now (the read snapshot is renewed
   * first): how many changes it has had and the id of the last one.
   */
  changeMark(definition: EntityDefinition): ChangeMark {
    this.renewSnapshot();
    return this.tablesOf(definition).counters.get(['changes', definition.name]) ?? { count: 0, lastEventId: '' };
  }

  /**
   * Makes the next reads see every commit made so far, by any process. lmdb reuses one
   * read snapshot until a timer fires; a request must not read from before a write that
   * another process has already acknowledged.
   */
  renewSnapshot(): void {
    this.environment.renewSnapshot();
  }

  /** A record's field history, or `undefined` if no record with this id ever existed. */
  history(definition: EntityDefinition, id: string): RecordHistory | undefined {
    const tables = this.tablesOf(definition);
    return tables.history.read(id, tables.records.get(id) !== undefined);
  }

  /** Events with a seq greater than `afterSeq`, oldest first, `limit` at most. */
  events(afterSeq = 0, limit = 1000): EntityEvent[] {
    return this.log.read(afterSeq, limit);
  }

  /**
   * Applies events made elsewhere (a replica, a backup of the log) through the same
   * `applyEvent` as local writes. Each must carry the next seq of this store's log.
   */
  replay(events: readonly EntityEvent[]): Promise<void> {
    return this.environment.write(() => {
      for (const event of events) {
        const expected = this.log.lastSeq() + 1;
        if (event.seq !== expected) throw new Error(`event seq ${event.seq} does not follow the log (expected ${expected})`);
        const definition = this.definitions.get(event.entity);
        if (!definition) throw new Error(`event ${event.seq} names an unknown entity "${event.entity}"`);
        this.log.put(event);
        applyEvent(this.tablesOf(definition), event);
      }
    });
  }

  /**
   * Checks records, indexes, unique constraints, history and the log; lists every inconsistency.
   * `onProgress` hears, as the walk goes, how many more entries were checked.
   */
  verify(onProgress?: (checked: number) => void): VerifyReport {
    return verifyStore([...this.definitions.values()].map((definition) => this.tablesOf(definition)), this.log, onProgress);
  }

  /**
   * Rebuilds the indexes of one entity, or of all, from the records. Runs at start-up for
   * indexes that are new or changed since the store was last opened. `onProgress` hears, as
   * it goes, how many more index entries were written.
   */
  async rebuildIndexes(definition?: EntityDefinition, onProgress?: (entries: number) => void): Promise<void> {
    const targets = definition ? [this.tablesOf(definition)] : [...this.definitions.values()].map((d) => this.tablesOf(d));
    for (const tables of targets) await this.indexBuilder.rebuild(tables, tables.indexes.map(({ index }) => index), onProgress);
  }

  /** Forgets expired idempotency keys and drops events past the retention policy (by default the module's). */
  async runMaintenance(
    now = Date.now(),
    retention: EventRetention | undefined = this.options.eventRetention,
  ): Promise<{ idempotencyKeys: number; events: number }> {
    return this.environment.write(() => ({
      idempotencyKeys: this.idempotency!.purge(now),
      events: retention ? this.log.compact(retention, now) : 0,
    }));
  }

  async close(): Promise<void> {
    clearInterval(this.maintenance);
    await this.opening?.catch(() => undefined);
    await this.writerList.withdraw();
    this.tables.clear();
    this.eventLog = undefined;
    this.idempotency = undefined;
    this.opening = undefined;
    await this.environment.close();
  }

  /** Creates the cursor key on first open; the check runs in the write, so concurrent openers agree. */
  private async loadCursorKey(): Promise<Buffer> {
    const meta = this.environment.database<Uint8Array, IndexKey>(META_DB);
    const existing = meta.get(['cursorKey']);
    if (existing) return Buffer.from(existing);
    return this.environment.write(() => {
      const current = meta.get(['cursorKey']);
      if (current) return Buffer.from(current);
      const key = randomBytes(32);
      meta.putSync(['cursorKey'], key);
      return key;
    });
  }
}
