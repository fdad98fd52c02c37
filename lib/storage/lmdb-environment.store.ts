import { ABORT, type Database, type Key, type RootDatabase, type Transaction } from 'lmdb';
import type { LmdbTuning } from '../common/storage-options.interface.js';
import { EntitiesLogger } from '../common/entities.logger.js';
import type { EnvironmentStat, LmdbStats } from './environment-stat.interface.js';
import { environmentStat } from './environment-stat.util.js';
import { backupEnvironment } from './lmdb-backup.util.js';
import { LastTxnCatchUp } from './last-txn-catch-up.service.js';
import { StaleWriteTransaction } from './lmdb-last-txn.util.js';
import { databaseOpenFailure } from './lmdb-open-failure.util.js';
import { lmdbDatabaseOptions } from './lmdb-open-options.util.js';
import { closeRoot, openRoot } from './lmdb-root.util.js';
import type { SharedTxnId } from './lmdb-shared-txn-id.store.js';
import { PanicWatchdog } from './panic-watchdog.service.js';
import { SharedStructures } from './shared-structures.service.js';
import { repairIfBehind, STALE_WRITE_ATTEMPTS } from './stale-write-repair.util.js';
import { StorageFailureException } from './storage-failure.exception.js';
import { openWritable } from './writable-database.util.js';
import { WriteFailures } from './write-failures.service.js';

const INSIDE_WRITE =
  'a repository call was made inside a write (a transaction callback, a migration step), where it would read what the write has not committed: ' +
  'use the transaction a callback is given (tx.findById, tx.create, ...); the write stored nothing';
const NESTED_WRITE =
  'a write was begun inside the callback of another (a repository call inside a transaction callback?): use the transaction the callback is given; neither stored anything';

/**
 * The one LMDB environment of a data directory. Writes go through `write`, which
 * resolves only once the change is synced to disk.
 */
export class LmdbEnvironment {
  private root?: RootDatabase;
  private readonly databases = new Map<string, Database>();
  private readonly logger = new EntitiesLogger('EntitiesStorage');
  private readonly failures: WriteFailures;
  private readonly watchdog: PanicWatchdog;
  private readonly structures = new SharedStructures();
  private writing = 0;
  /** Why the write whose callback runs now fails: a repository call it made (see `refuseNestedWrite`, `refuseInsideWrite`). */
  private nestedCall?: string;
  private pending = 0;
  /** Writes begun and not yet answered, their retries and the wait for their flush included. */
  private inFlight = 0;
  /** Resolved when `inFlight` next reaches 0 (see `writesSettled`). */
  private settled?: { promise: Promise<void>; resolve: () => void };
  /** The LMDB transaction whose start `startsBehindLastCommit` last checked, until the next microtask. */
  private checkedTxn: { id: number; behind: boolean; repaired: boolean } | undefined;
  private sharedTxnId?: SharedTxnId;
  private readonly lastTxn: LastTxnCatchUp;

  /**
   * `readOnly` opens the environment as LMDB's read-only one: the tools that only read (the
   * command line's `stat`, `verify`...) can then never create or change a file of the store.
   */
  constructor(
    readonly path: string,
    private readonly tuning: LmdbTuning = {},
    readonly readOnly = false,
  ) {
    this.failures = new WriteFailures(path, this.logger, () => this.lastCommittedTxnId());
    this.lastTxn = new LastTxnCatchUp(
      path,
      this.logger,
      () => (this.readOnly || this.failures.stoppedBy ? undefined : this.write(() => undefined)),
      () => this.root !== undefined,
    );
    this.watchdog = new PanicWatchdog(
      () => (this.pending > 0 && !this.failures.stoppedBy ? this.root : undefined),
      (error) => this.failures.failStop(error instanceof Error ? error.message : String(error), error),
      () => void this.lastTxn.reset().catch((error: unknown) => this.logger.warn(error instanceof Error ? error.message : String(error))),
    );
  }

  get isOpen(): boolean {
    return this.root !== undefined;
  }

  /** Whether a write's callback is running now (a repository call made there is refused, see `refuseInsideWrite`). */
  get insideWrite(): boolean {
    return this.writing > 0;
  }

  open(maxDbs: number): void {
    if (this.root) return;
    const { root, sharedTxnId } = openRoot(this.path, this.tuning, maxDbs, this.readOnly);
    this.sharedTxnId = sharedTxnId;
    this.root = root;
    this.lastTxn.afterOpen(root, sharedTxnId);
  }

  /** Resolves once reads start from the newest commit again, if this process's open found them behind. */
  caughtUp(): Promise<void> {
    return this.lastTxn.caughtUp();
  }

  database<V, K extends Key>(name: string, options: { encoding?: 'msgpack' | 'binary' } = {}): Database<V, K> {
    let db = this.databases.get(name);
    if (!db) {
      // A handle first opened in a transaction that rolls back is dead; open databases up front.
      // (Nested in a transaction of lmdb's, `openWritable`'s abort would also undo only its own part.)
      if (this.writing > 0 || (this.root as unknown as { env?: { writeTxn?: unknown } } | undefined)?.env?.writeTxn) {
        throw new Error(`database ${name} must be opened before any write, not inside one`);
      }
      const databaseOptions = lmdbDatabaseOptions(name, options.encoding);
      try {
        // Creating a database is a commit, which `writableRoot` refuses in a store stopped by a failed write.
        db = this.readOnly
          ? this.requireRoot().openDB(name, databaseOptions)
          : openWritable(this.writableRoot(), this.path, this.sharedTxnId, name, databaseOptions, this.logger);
      } catch (error) {
        throw databaseOpenFailure(this.path, name, error);
      }
      // A read-only environment cannot create a database; lmdb answers undefined for a missing one.
      if (!db) throw new StorageFailureException(`the store at ${this.path} has no database ${name}; start the app on it once`, false);
      if (databaseOptions.sharedStructuresKey !== undefined) this.structures.watch(db);
      this.databases.set(name, db);
    }
    return db as Database<V, K>;
  }

  /** Whether the environment holds a database of this name; asking creates none. */
  hasDatabase(name: string): boolean {
    // The unnamed database lists the named ones by name (its keys, which `get` does not find).
    if (this.databases.has(name)) return true;
    for (const key of this.requireRoot().getKeys({})) if (key === name) return true;
    return false;
  }

  /** Starts a fresh read snapshot for the next reads (outside a write transaction). */
  renewSnapshot(): void {
    if (this.root && this.writing === 0) this.root.resetReadTxn();
  }

  /** Resolves once every write begun has been answered (committed and flushed, or failed). */
  writesSettled(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    if (!this.settled) {
      let resolve!: () => void;
      const promise = new Promise<void>((settle) => (resolve = settle));
      this.settled = { promise, resolve };
    }
    return this.settled.promise;
  }

  /** A read snapshot of every database, held until its `done()`: for reads that must agree across databases over many turns. */
  useReadTransaction(): Transaction {
    return this.requireRoot().useReadTransaction();
  }

  /**
   * Runs `fn` in a write transaction and resolves once the commit is flushed. `fn` runs
   * as an lmdb child transaction, so a throw rolls back everything it wrote while other
   * writes batched into the same LMDB transaction still commit.
   */
  write<R>(fn: () => R): Promise<R> {
    return this.refuseNestedWrite() ?? this.writeAttempts(fn);
  }

  /**
   * A write begun inside another write's callback (a repository call inside a transaction's
   * callback) cannot join it, and LMDB would nest it half-way: it is refused, and so is the
   * write whose callback began it, so neither stores anything. Returns the refusal, or
   * `undefined` outside a write callback.
   */
  refuseNestedWrite(): Promise<never> | undefined {
    if (this.writing === 0) return undefined;
    this.nestedCall = NESTED_WRITE;
    const refused = Promise.reject(new TypeError(NESTED_WRITE));
    // The callback cannot await it (it is synchronous); the write around it fails with the same error.
    refused.catch(() => undefined);
    return refused;
  }

  /**
   * Throws when called inside a write's callback, and fails that write as `refuseNestedWrite`
   * does: a repository call there would read the transaction's state before it commits (or
   * rolls back), or begin a write beside it.
   */
  refuseInsideWrite(): void {
    if (!this.insideWrite) return;
    this.nestedCall = INSIDE_WRITE;
    throw new TypeError(INSIDE_WRITE);
  }

  private async writeAttempts<R>(fn: () => R): Promise<R> {
    this.inFlight++;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.writeOnce(fn);
        } catch (error) {
          if (!(error instanceof StaleWriteTransaction)) throw error;
          if (attempt === STALE_WRITE_ATTEMPTS) {
            throw new StorageFailureException(`the store at ${this.path} kept starting writes behind its last commit; nothing was stored`, false);
          }
          this.logger.warn(
            `${error.message} (another process opened the store during a commit): ${error.repaired ? 'set it right' : 'resetting it'} before writing again`,
          );
          if (!error.repaired) await this.lastTxn.reset();
        }
      }
    } finally {
      if (--this.inFlight === 0 && this.settled) {
        this.settled.resolve();
        this.settled = undefined;
      }
    }
  }

  private async writeOnce<R>(fn: () => R): Promise<R> {
    const root = this.writableRoot();
    const sharedTxnId = this.sharedTxnId;
    const epoch = this.failures.epoch;
    let thrown: { error: unknown } | undefined;
    /** The LMDB transaction this write went into: whether it became visible tells what a failure left behind. */
    let txnId: number | undefined;
    let savedStructures: ReturnType<SharedStructures['end']>;
    const guarded = () => {
      txnId = root.getWriteTxnId();
      // Committed, it would overwrite the commit it started behind; thrown, nothing of it is.
      const start = this.checkStart(root, txnId, sharedTxnId);
      if (start.behind) throw new StaleWriteTransaction(txnId, start.repaired);
      this.writing++;
      this.structures.begin();
      try {
        return this.runRefusingNested(fn);
      } catch (error) {
        thrown = { error };
        throw error;
      } finally {
        savedStructures = this.structures.end(thrown !== undefined);
        this.writing--;
      }
    };
    let result: R;
    this.pending++;
    this.watchdog.arm();
    try {
      // A panicked environment never settles the transactions queued in it: the stop settles them.
      const committed = root.childTransaction(guarded);
      // Once the stop wins the race nobody awaits the commit: its failure, and the `commitError`
      // lmdb rejects with it, must still be handled or they end the process.
      committed.catch((error: unknown) => (error as { commitError?: Promise<unknown> } | null)?.commitError?.catch(() => undefined));
      result = (await this.failures.race(committed)) as R;
      this.structures.settle(savedStructures, true);
    } catch (error) {
      this.structures.settle(savedStructures, false);
      if (error instanceof StorageFailureException || error instanceof StaleWriteTransaction) throw error;
      throw await this.failures.classify(error, thrown !== undefined && thrown.error === error, txnId);
    } finally {
      this.pending--;
    }
    if (!(await this.failures.flushedUnless(epoch, root.flushed))) {
      throw new StorageFailureException('the disk failed before the write was confirmed durable; it may or may not be stored', false);
    }
    return result;
  }

  /** Runs a write's callback; fails it when it began another write (see `refuseNestedWrite`). */
  private runRefusingNested<R>(fn: () => R): R {
    this.nestedCall = undefined;
    try {
      const result = fn();
      if (this.nestedCall) throw new TypeError(this.nestedCall);
      return result;
    } finally {
      // Answered here: a write around this one (a replicated group's) is not refused for it.
      this.nestedCall = undefined;
    }
  }

  /**
   * Whether the write transaction `txnId` started behind the last commit, asked once per LMDB
   * transaction rather than once per write lmdb batched into it (reading it costs a write a
   * few microseconds). The writes of one transaction run in one synchronous stretch, during
   * which no process can commit; a microtask ends the stretch, so an id that a transaction
   * aborted and the next one took again is asked anew. One that did is set right from here,
   * under the write lock it holds.
   */
  private checkStart(root: RootDatabase, txnId: number, sharedTxnId: SharedTxnId | undefined): { behind: boolean; repaired: boolean } {
    if (this.checkedTxn?.id !== txnId) {
      this.checkedTxn = { id: txnId, ...repairIfBehind(root, sharedTxnId) };
      queueMicrotask(() => (this.checkedTxn = undefined));
    }
    return this.checkedTxn;
  }

  /**
   * Runs `fn` in a write transaction that is then rolled back, and returns what it returned: a
   * decision on the state as every process has committed it, with nothing stored. Synchronous:
   * it holds LMDB's write lock for as long as `fn` runs.
   */
  dryRun<R>(fn: () => R): R {
    const root = this.writableRoot();
    let result: { value: R } | undefined;
    this.writing++;
    this.structures.begin();
    try {
      root.transactionSync(() => {
        result = { value: this.runRefusingNested(fn) };
        return ABORT;
      });
    } finally {
      // Shapes it stored are rolled back with it.
      this.structures.end(true);
      this.writing--;
    }
    return result!.value;
  }

  /**
   * Inside `dryRun`: runs `fn` in a child transaction, so that a throw takes back what it wrote
   * and leaves what ran before it; a write begun inside `fn` fails it (see `refuseNestedWrite`).
   */
  orUndo<R>(fn: () => R): R {
    let result: { value: R } | undefined;
    this.requireRoot().transactionSync(() => {
      result = { value: this.runRefusingNested(fn) };
    });
    return result!.value;
  }

  /** Refuses every write from now on with `failure` (health reports it); reads go on. */
  stop(failure: StorageFailureException): void {
    this.failures.failStop(failure.message, failure, failure);
  }

  /** The failure that stopped writes until a restart (see `stop`), if one did. */
  get stoppedBy(): StorageFailureException | undefined {
    return this.failures.stoppedBy;
  }

  /**
   * LMDB's figures for the environment and for each database opened so far, as `mdb_stat`
   * reports them, read from the current snapshot.
   */
  stat(): EnvironmentStat {
    return environmentStat(this.requireRoot(), this.databases);
  }

  /**
   * Copies the environment into the directory `path` (which must not hold a store yet) from
   * one read snapshot, so the copy is consistent while writers carry on. `compact` leaves
   * out free pages and renumbers the rest: smaller, and slower to make.
   */
  async backup(path: string, compact = false): Promise<void> {
    return backupEnvironment(this.requireRoot(), path, compact, () => this.lastTxn.catchUp());
  }

  async close(): Promise<void> {
    const root = this.root;
    if (!root) return;
    this.root = undefined;
    const sharedTxnId = this.sharedTxnId;
    this.sharedTxnId = undefined;
    this.databases.clear();
    this.watchdog.disarm();
    // A panicked or failed environment can block the thread inside lmdb's close; LMDB needs no
    // close to stay consistent, so the process just lets go of it.
    if (this.failures.stoppedBy) return;
    const closed = await closeRoot(root);
    // While the process keeps the environment, the lock file must stay open too (see lmdb-shared-txn-id).
    if (closed) sharedTxnId?.release();
    else this.logger.warn(`closing ${this.path} timed out after a failed commit; the process keeps the store open`);
  }

  /** The id of the newest commit readers can see, or +Infinity when the environment cannot tell (it failed). */
  private lastCommittedTxnId(): number {
    try {
      return (this.requireRoot().getStats() as LmdbStats).lastTxnId;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  }

  private requireRoot(): RootDatabase {
    if (!this.root) throw new StorageFailureException(`the store at ${this.path} is not open`, false);
    return this.root;
  }

  /** The root, for a transaction that writes: refused while the store is read-only or stopped by a failed write. */
  private writableRoot(): RootDatabase {
    const root = this.requireRoot();
    if (this.readOnly) throw new StorageFailureException(`the store at ${this.path} is open read-only`, false);
    const stopped = this.failures.stoppedBy;
    if (stopped) throw stopped;
    return root;
  }
}
