import { mkdirSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { ABORT, open, TransactionFlags, type Database, type DatabaseOptions, type Key, type RootDatabase } from 'lmdb';
import type { LmdbTuning } from '../common/storage-options.interface.js';
import { EntitiesLogger } from '../common/entities.logger.js';
import type { EnvironmentStat, LmdbStats } from './environment-stat.interface.js';
import { environmentStat } from './environment-stat.util.js';
import { backupEnvironment } from './lmdb-backup.util.js';
import { assertWholeDataFile } from './lmdb-data-file.util.js';
import { newestCommitOf, resetLastTxn, StaleWriteTransaction, startsBehindLastCommit } from './lmdb-last-txn.util.js';
import { databaseOpenFailure, openFailure } from './lmdb-open-failure.util.js';
import { lmdbDatabaseOptions, lmdbOpenOptions } from './lmdb-open-options.util.js';
import { SharedTxnId } from './lmdb-shared-txn-id.store.js';
import { PanicWatchdog } from './panic-watchdog.service.js';
import { SharedStructures } from './shared-structures.service.js';
import { StorageFailureException } from './storage-failure.exception.js';
import { WriteFailures } from './write-failures.service.js';

const CLOSE_TIMEOUT = 5_000;
/** Each retry follows a reset; another opener racing every one of them is no accident. */
const STALE_WRITE_ATTEMPTS = 5;

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
  private pending = 0;
  /** The LMDB transaction whose start `startsBehindLastCommit` last checked, until the next microtask. */
  private checkedTxn: { id: number; behind: boolean; repaired: boolean } | undefined;
  private sharedTxnId?: SharedTxnId;
  /** Setting the shared id right after this process's own open found it behind. */
  private catchingUp?: Promise<void>;
  private resettingLastTxn?: Promise<void>;

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
    this.watchdog = new PanicWatchdog(
      () => (this.pending > 0 && !this.failures.stoppedBy ? this.root : undefined),
      (error) => this.failures.failStop(error instanceof Error ? error.message : String(error), error),
      () => void this.resetLastTxn().catch((error: unknown) => this.logger.warn(error instanceof Error ? error.message : String(error))),
    );
  }

  get isOpen(): boolean {
    return this.root !== undefined;
  }

  open(maxDbs: number): void {
    if (this.root) return;
    if (!this.readOnly) mkdirSync(this.path, { recursive: true });
    // lmdb maps a damaged file as it is: a page past the end of a truncated file kills the
    // process with SIGBUS, garbage sends it into a crash or an endless loop (issue 14).
    assertWholeDataFile(this.path);
    let root: RootDatabase;
    try {
      root = open(lmdbOpenOptions(this.path, this.tuning, maxDbs, this.readOnly));
    } catch (error) {
      throw openFailure(this.path, error);
    }
    try {
      this.sharedTxnId = SharedTxnId.attach(this.path);
    } catch (error) {
      root.close().catch(() => undefined);
      throw openFailure(this.path, error);
    }
    this.root = root;
    // Opening may itself have set the shared last-transaction id back (see lmdb-last-txn.util):
    // every process would then read an older state until it is set right. The newest commit
    // is read first: a commit between the two reads then only moves the shared id on.
    const newest = newestCommitOf(root);
    if (this.sharedTxnId && this.sharedTxnId.read() < newest) {
      this.logger.warn(`opening ${this.path} set LMDB's last transaction back (another process committed meanwhile): setting it right`);
      const catchingUp = this.catchUp()
        .catch((error: unknown) => this.logger.warn(error instanceof Error ? error.message : String(error)))
        .finally(() => {
          if (this.catchingUp === catchingUp) this.catchingUp = undefined;
        });
      this.catchingUp = catchingUp;
    }
  }

  /** Resolves once reads start from the newest commit again, if this process's open found them behind. */
  async caughtUp(): Promise<void> {
    await this.catchingUp;
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
        db = this.readOnly ? this.requireRoot().openDB(name, databaseOptions) : this.openWritable(name, databaseOptions);
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

  /**
   * Opens a database of a writable environment, creating it when missing. lmdb creates one in
   * a write transaction of its own, which `write`'s check never sees: started behind the last
   * commit (see lmdb-last-txn.util), creating a database would replace that commit (a new
   * entity's or index's database, as an app starts beside others). So the database is opened
   * inside a transaction that checks first, and sets the shared id right when it is behind.
   */
  private openWritable(name: string, options: DatabaseOptions): Database {
    const root = this.requireRoot();
    // Creating a database is a commit: a store stopped by a failed write takes none.
    const stopped = this.failures.stoppedBy;
    if (stopped) throw stopped;
    for (let attempt = 1; ; attempt++) {
      let opened: Database | undefined;
      let repaired = false;
      root.transactionSync(
        () => {
          const start = this.repairIfBehind(root);
          if (start.behind) {
            repaired = start.repaired;
            return ABORT;
          }
          opened = root.openDB(name, options);
          return undefined;
        },
        // lmdb's own flags for opening a database, made abortable so that one started behind commits nothing.
        (TransactionFlags.ABORTABLE |
          TransactionFlags.SYNCHRONOUS_COMMIT |
          ((root as unknown as { overlappingSync?: boolean }).overlappingSync ? TransactionFlags.NO_SYNC_FLUSH : 0)) as TransactionFlags,
      );
      if (opened) return opened;
      if (!repaired) {
        throw new StorageFailureException(
          `opening database ${name} of ${this.path} started behind the last commit, and LMDB's record of it could not be set right`,
          false,
        );
      }
      if (attempt === STALE_WRITE_ATTEMPTS) {
        throw new StorageFailureException(`the store at ${this.path} kept starting writes behind its last commit; database ${name} was not opened`, false);
      }
      this.logger.warn(
        `opening database ${name} of ${this.path} started behind the last commit (an open of the store set LMDB back): set it right before opening it again`,
      );
    }
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

  /**
   * Runs `fn` in a write transaction and resolves once the commit is flushed. `fn` runs
   * as an lmdb child transaction, so a throw rolls back everything it wrote while other
   * writes batched into the same LMDB transaction still commit.
   */
  async write<R>(fn: () => R): Promise<R> {
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
        if (!error.repaired) await this.resetLastTxn();
      }
    }
  }

  private async writeOnce<R>(fn: () => R): Promise<R> {
    const root = this.requireRoot();
    const sharedTxnId = this.sharedTxnId;
    if (this.readOnly) throw new StorageFailureException(`the store at ${this.path} is open read-only`, false);
    const stopped = this.failures.stoppedBy;
    if (stopped) throw stopped;
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
        return fn();
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
      this.checkedTxn = { id: txnId, ...this.repairIfBehind(root, sharedTxnId) };
      queueMicrotask(() => (this.checkedTxn = undefined));
    }
    return this.checkedTxn;
  }

  /** Inside a write transaction: whether it started behind the last commit, and if so whether the shared id was set right. */
  private repairIfBehind(root: RootDatabase, sharedTxnId = this.sharedTxnId): { behind: boolean; repaired: boolean } {
    const behind = startsBehindLastCommit(root);
    return { behind, repaired: behind && sharedTxnId !== undefined && catchUpInWriteLock(root, sharedTxnId) };
  }

  /**
   * Sets the shared id right when it is behind. A write does it, even one that changes
   * nothing (see `checkStart`), without blocking this thread while another process holds the
   * write lock; a process that cannot write has a child process do it.
   */
  private catchUp(): Promise<void> {
    if (this.readOnly || this.failures.stoppedBy) return this.resetLastTxn();
    // Closed meanwhile: a child's open of a closed store would only risk the race again.
    return this.write(() => undefined).catch(() => (this.root ? this.resetLastTxn() : undefined));
  }

  /**
   * Runs `fn` in a write transaction that is then rolled back, and returns what it returned: a
   * decision on the state as every process has committed it, with nothing stored. Synchronous:
   * it holds LMDB's write lock for as long as `fn` runs.
   */
  dryRun<R>(fn: () => R): R {
    const root = this.requireRoot();
    if (this.readOnly) throw new StorageFailureException(`the store at ${this.path} is open read-only`, false);
    const stopped = this.failures.stoppedBy;
    if (stopped) throw stopped;
    let result: { value: R } | undefined;
    this.writing++;
    this.structures.begin();
    try {
      root.transactionSync(() => {
        result = { value: fn() };
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
   * and leaves what ran before it.
   */
  orUndo<R>(fn: () => R): R {
    let result: { value: R } | undefined;
    this.requireRoot().transactionSync(() => {
      result = { value: fn() };
    });
    return result!.value;
  }

  /** Refuses every write from now on with `failure` (health reports it); reads go on. */
  stop(failure: StorageFailureException): void {
    this.failures.failStop(failure.message, failure, failure);
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
    return backupEnvironment(this.requireRoot(), path, compact, () => this.catchUp());
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
    // After a failed commit lmdb's close waits for a flush that never comes; do not hang shutdown on it.
    // Unref'd: once the close is done, the timer must not keep the process alive (a CLI run would wait it out).
    const closed = await Promise.race([root.close().then(() => true), delay(CLOSE_TIMEOUT, false, { ref: false })]);
    // While the process keeps the environment, the lock file must stay open too (see lmdb-shared-txn-id).
    if (closed) sharedTxnId?.release();
    else this.logger.warn(`closing ${this.path} timed out after a failed commit; the process keeps the store open`);
  }

  /** One reset at a time, shared by the writes and the watchdog that need it. */
  private resetLastTxn(): Promise<void> {
    this.resettingLastTxn ??= resetLastTxn(this.path).finally(() => (this.resettingLastTxn = undefined));
    return this.resettingLastTxn;
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
}

/**
 * Inside a write transaction, where no process can commit: sets the shared id of the last
 * commit to the newest commit in the data file when it is behind, as LMDB's own open does but
 * without its race. False when this process cannot write lock.mdb.
 */
function catchUpInWriteLock(root: RootDatabase, sharedTxnId: SharedTxnId): boolean {
  const newest = newestCommitOf(root);
  return sharedTxnId.read() >= newest || sharedTxnId.write(newest);
}
