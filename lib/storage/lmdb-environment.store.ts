import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { open as openFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { open, type Database, type Key, type RootDatabase, type RootDatabaseOptions } from 'lmdb';
import type { LmdbTuning } from '../common/storage-options.interface.js';
import type { DatabaseStat, EnvironmentStat, LmdbStats } from './environment-stat.interface.js';
import { EntitiesLogger } from '../common/entities.logger.js';
import { assertWholeDataFile } from './lmdb-data-file.util.js';
import { StorageFailureException } from './storage-failure.exception.js';

/**
 * The one LMDB environment of a data directory. Writes go through `write`, which
 * resolves only once the change is synced to disk.
 */
export class LmdbEnvironment {
  private root?: RootDatabase;
  private readonly databases = new Map<string, Database>();
  private readonly logger = new EntitiesLogger('EntitiesStorage');
  private readonly failures = new FailureSignal();
  private writing = 0;
  /** Set once a write failed in a way that leaves the disk's state unknown; writes are refused from then on. */
  private stopped?: StorageFailureException;
  private readonly stop = new StopSignal();
  private pending = 0;
  private watchdog?: NodeJS.Timeout;

  /**
   * `readOnly` opens the environment as LMDB's read-only one: the tools that only read (the
   * command line's `stat`, `verify`...) can then never create or change a file of the store.
   */
  constructor(
    readonly path: string,
    private readonly tuning: LmdbTuning = {},
    readonly readOnly = false,
  ) {}

  get isOpen(): boolean {
    return this.root !== undefined;
  }

  open(maxDbs: number): void {
    if (this.root) return;
    if (!this.readOnly) mkdirSync(this.path, { recursive: true });
    // lmdb maps a damaged file as it is: a page past the end of a truncated file kills the
    // process with SIGBUS, garbage sends it into a crash or an endless loop (issue 14).
    assertWholeDataFile(this.path);
    // overlappingSync stays at lmdb's default; durability comes from awaiting `flushed`
    // in `write`. Compression and lmdb's object cache cost more than they save here.
    // noSubdir: false, or lmdb takes a directory name with a dot in it for a file name.
    // eventTurnBatching: false, because with it every failed commit also rejects the promise
    // of lmdb's own event-turn batch, which nobody holds: an unhandled rejection that ends
    // the process (the family of kriszyp/lmdb-js#368). Our writes are explicit transactions,
    // which lmdb still groups into one commit while the previous one syncs, so durable
    // throughput still grows with concurrency.
    this.root = open({
      ...this.tuning,
      path: this.path,
      noSubdir: false,
      eventTurnBatching: false,
      maxDbs,
      compression: false,
      cache: false,
      noSync: false,
      useWritemap: false,
      readOnly: this.readOnly,
    } as RootDatabaseOptions & { path: string });
  }

  database<V, K extends Key>(name: string, options: { encoding?: 'msgpack' | 'binary' } = {}): Database<V, K> {
    let db = this.databases.get(name);
    if (!db) {
      // A handle first opened in a transaction that rolls back is dead; open databases up front.
      if (this.writing > 0) throw new Error(`database ${name} must be opened before any write, not inside one`);
      db = this.requireRoot().openDB(name, { encoding: options.encoding ?? 'msgpack', cache: false, compression: false });
      // A read-only environment cannot create a database; lmdb answers undefined for a missing one.
      if (!db) throw new StorageFailureException(`the store at ${this.path} has no database ${name}; start the app on it once`, false);
      this.databases.set(name, db);
    }
    return db as Database<V, K>;
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
    const root = this.requireRoot();
    if (this.readOnly) throw new StorageFailureException(`the store at ${this.path} is open read-only`, false);
    if (this.stopped) throw this.stopped;
    // Taken before the write starts: any commit failure from now on may leave lmdb's
    // `flushed` pending until a later commit succeeds, so waiting on it alone could hang.
    const epoch = this.failures.count;
    let thrown: { error: unknown } | undefined;
    /** The LMDB transaction this write went into: whether it became visible tells what a failure left behind. */
    let txnId: number | undefined;
    const guarded = () => {
      this.writing++;
      txnId = root.getWriteTxnId();
      try {
        return fn();
      } catch (error) {
        thrown = { error };
        throw error;
      } finally {
        this.writing--;
      }
    };
    let result: R;
    this.pending++;
    this.armWatchdog();
    try {
      // A panicked environment never settles the transactions queued in it: the stop settles them.
      const committed = root.childTransaction(guarded);
      // Once the stop wins the race nobody awaits the commit: its failure, and the `commitError`
      // lmdb rejects with it, must still be handled or they end the process.
      committed.catch((error: unknown) => (error as { commitError?: Promise<unknown> } | null)?.commitError?.catch(() => undefined));
      result = (await this.stop.race(committed)) as R;
    } catch (error) {
      throw error instanceof StorageFailureException ? error : await this.asStorageFailure(error, thrown !== undefined && thrown.error === error, txnId);
    } finally {
      this.pending--;
    }
    if (!(await this.failures.flushedUnless(epoch, root.flushed))) {
      throw new StorageFailureException('the disk failed before the write was confirmed durable; it may or may not be stored', false);
    }
    return result;
  }

  /** Why writes are refused, once a failure left the store's durable state unknown; `undefined` while it is sound. */
  get failStopped(): string | undefined {
    return this.stopped?.message;
  }

  /**
   * Refuses every write from now on and fails the ones in flight. After a failed sync Linux
   * may have dropped the dirty pages while marking them clean, and later commits would build
   * on pages that never reached the disk; only a restart (LMDB recovers from its last good
   * meta page) makes acknowledgements trustworthy again. Reads go on.
   */
  private failStop(reason: string, cause?: unknown): StorageFailureException {
    if (!this.stopped) {
      this.stopped = new StorageFailureException(
        `the store had a write failure (${reason}); writes are refused until the process restarts`,
        false,
        { cause },
      );
      this.logger.error(`${this.stopped.message}; reads go on`);
      this.stop.fire(this.stopped);
      // Writes waiting for `flushed` would wait for a later commit that will never come.
      this.failures.signal();
    }
    return this.stopped;
  }

  /**
   * lmdb-js only logs a panic (a failed meta-page write) and leaves queued transactions
   * pending forever. While writes wait, the environment is probed every few seconds; a read
   * that fails with an LMDB error means it panicked.
   */
  private armWatchdog(): void {
    if (this.watchdog) return;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (this.pending === 0 || this.stopped || !this.root) return;
      try {
        this.root.resetReadTxn();
        this.root.getStats();
        this.root.get(WATCHDOG_KEY);
      } catch (error) {
        this.failStop(error instanceof Error ? error.message : String(error), error);
        return;
      }
      this.armWatchdog();
    }, WATCHDOG_MS).unref();
  }

  /**
   * LMDB's figures for the environment and for each database opened so far, as `mdb_stat`
   * reports them, read from the current snapshot.
   */
  stat(): EnvironmentStat {
    const root = this.requireRoot();
    const env = root.getStats() as LmdbStats;
    const databases: Record<string, DatabaseStat> = {};
    for (const [name, db] of this.databases) {
      const stats = db.getStats() as LmdbStats;
      const pages = stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages;
      databases[name] = { entries: stats.entryCount, depth: stats.treeDepth, pages, bytes: pages * stats.pageSize };
    }
    return {
      mapSize: env.mapSize,
      pageSize: env.pageSize,
      usedBytes: (env.lastPageNumber + 1) * env.pageSize,
      lastTxnId: env.lastTxnId,
      readers: env.numReaders,
      maxReaders: env.maxReaders,
      databases,
    };
  }

  /**
   * Copies the environment into the directory `path` (which must not hold a store yet) from
   * one read snapshot, so the copy is consistent while writers carry on. `compact` leaves
   * out free pages and renumbers the rest: smaller, and slower to make.
   */
  async backup(path: string, compact = false): Promise<void> {
    const root = this.requireRoot();
    mkdirSync(path, { recursive: true });
    // Copied beside its place and renamed into it once complete and synced: a copy cut short
    // (the process killed) must never look like a store to whoever opens the directory next.
    const partial = mkdtempSync(join(path, '.partial-'));
    try {
      await root.backup(partial, compact);
      const file = await openFile(join(partial, 'data.mdb'), 'r+');
      await file.sync();
      await file.close();
      renameSync(join(partial, 'data.mdb'), join(path, 'data.mdb'));
      const dir = await openFile(path, 'r');
      await dir.sync();
      await dir.close();
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    const root = this.root;
    if (!root) return;
    this.root = undefined;
    this.databases.clear();
    if (this.watchdog) clearTimeout(this.watchdog);
    // A panicked or failed environment can block the thread inside lmdb's close; LMDB needs no
    // close to stay consistent, so the process just lets go of it.
    if (this.stopped) return;
    // After a failed commit lmdb's close waits for a flush that never comes; do not hang shutdown on it.
    // Unref'd: once the close is done, the timer must not keep the process alive (a CLI run would wait it out).
    const closed = await Promise.race([root.close().then(() => true), delay(CLOSE_TIMEOUT, false, { ref: false })]);
    if (!closed) this.logger.warn(`closing ${this.path} timed out after a failed commit; the process keeps the store open`);
  }

  private async diskNearlyFull(): Promise<boolean> {
    try {
      const stats = await statfs(this.path);
      return stats.bavail * stats.bsize < FULL_DISK_BYTES;
    } catch {
      return false;
    }
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

  /**
   * What `fn` throws passes through unchanged (domain errors, a user's own errors), unless
   * it is lmdb failing a write inside it. Anything that fails the commit itself is a storage
   * failure; it also carries lmdb's `commitError` promise, which rejects later, so it is
   * handled here and can never surface as an unhandled rejection that takes the process down.
   */
  private async asStorageFailure(error: unknown, thrownByCallback: boolean, txnId: number | undefined): Promise<unknown> {
    const message = error instanceof Error ? error.message : String(error);
    if (thrownByCallback && !LMDB_FAILURE.test(message)) return error;
    this.failures.signal();
    // Read now, not after waiting for the cause: space freed meanwhile would make a full disk look like a failing one.
    const nearlyFull = this.diskNearlyFull();
    // The real cause (ENOSPC, EIO, MDB_MAP_FULL) arrives a moment later on `commitError`.
    const commitError = (error as { commitError?: Promise<unknown> } | null)?.commitError;
    const cause = commitError ? await Promise.race([commitError.then(() => undefined, (reason: unknown) => reason), delay(CAUSE_WAIT)]) : undefined;
    const detail = cause instanceof Error ? cause.message : message;
    this.logger.error(`commit failed: ${detail}`);
    // A commit that failed before its meta page was written left the store as it was: nothing
    // changed, and writes may go on (a full disk fails this way, on the first data page that
    // finds no room). Once the meta page is written the commit is visible, and a failure after
    // that (a sync) leaves what is on disk unknown: the store stops writing.
    if (txnId !== undefined && this.lastCommittedTxnId() < txnId) {
      // LMDB reports a short write, which is how a full disk shows first, as EIO, so the file system is asked too.
      const diskFull = /MDB_MAP_FULL|ENOSPC|No space left/i.test(detail) || (await nearlyFull);
      if (diskFull) return new StorageFailureException('the store is full: free disk space or raise mapSize; nothing was changed', true, { cause: cause ?? error });
      return new StorageFailureException(`the write failed (${detail}); nothing was changed`, false, { cause: cause ?? error });
    }
    const stopped = this.failStop(detail, cause ?? error);
    return new StorageFailureException(`the write may or may not be stored: ${stopped.message}`, false, { cause: cause ?? error });
  }
}

/** Messages of lmdb's own failures (LMDB error names, errno names of the I/O underneath). */
const LMDB_FAILURE = /\bMDB_[A-Z_]+|\bE(NOSPC|IO|ROFS|DQUOT|NOMEM)\b|No space left/;

const CLOSE_TIMEOUT = 5_000;
const WATCHDOG_MS = 3_000;
const WATCHDOG_KEY = Buffer.from('watchdog');
const CAUSE_WAIT = 100;
/** Free space below which a failed commit is taken for a full disk. */
const FULL_DISK_BYTES = 4 * 1024 * 1024;

/**
 * Counts commit failures and wakes the writes waiting for `flushed` when one happens.
 * Waiters are kept in a set and removed once flushed, so nothing accumulates per write.
 */
class FailureSignal {
  count = 0;
  private readonly waiters = new Set<() => void>();

  signal(): void {
    this.count++;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Resolves true once `flushed` does, or false at a failure since `epoch`. */
  flushedUnless(epoch: number, flushed: PromiseLike<unknown>): Promise<boolean> {
    if (this.count !== epoch) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = () => resolve(false);
      this.waiters.add(wake);
      Promise.resolve(flushed).then(
        () => {
          this.waiters.delete(wake);
          resolve(true);
        },
        () => {
          this.waiters.delete(wake);
          resolve(false);
        },
      );
    });
  }
}

/**
 * Fires once, failing the writes in flight. Not a promise raced against: every race with a
 * promise that never settles leaves its reaction, and with it the write's result, attached
 * to that promise for good (a leak of every record written).
 */
class StopSignal {
  private readonly waiting = new Set<(error: unknown) => void>();
  private fired?: { error: unknown };

  /** Settles as `promise` does, unless the signal fires first. */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.fired) return Promise.reject(this.fired.error);
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      promise.then(
        (value) => {
          this.waiting.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          this.waiting.delete(reject);
          reject(error);
        },
      );
    });
  }

  fire(error: unknown): void {
    this.fired = { error };
    for (const reject of this.waiting) reject(error);
    this.waiting.clear();
  }
}
