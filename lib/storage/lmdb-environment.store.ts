import { mkdirSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { open, type Database, type Key, type RootDatabase, type RootDatabaseOptions } from 'lmdb';
import { StorageFailureException } from './storage-failure.exception.js';

/** lmdb options a user may tune; the ones that trade away durability are not among them. */
export type LmdbTuning = Pick<RootDatabaseOptions, 'mapSize' | 'pageSize' | 'maxReaders'>;

/**
 * The one LMDB environment of a data directory. Writes go through `write`, which
 * resolves only once the change is synced to disk.
 */
export class LmdbEnvironment {
  private root?: RootDatabase;
  private readonly databases = new Map<string, Database>();
  private readonly logger = new Logger('EntitiesStorage');
  private readonly failures = new FailureSignal();
  private writing = 0;

  constructor(
    readonly path: string,
    private readonly tuning: LmdbTuning = {},
  ) {}

  get isOpen(): boolean {
    return this.root !== undefined;
  }

  open(maxDbs: number): void {
    if (this.root) return;
    mkdirSync(this.path, { recursive: true });
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
    } as RootDatabaseOptions & { path: string });
  }

  database<V, K extends Key>(name: string, options: { encoding?: 'msgpack' | 'binary' } = {}): Database<V, K> {
    let db = this.databases.get(name);
    if (!db) {
      // A handle first opened in a transaction that rolls back is dead; open databases up front.
      if (this.writing > 0) throw new Error(`database ${name} must be opened before any write, not inside one`);
      db = this.requireRoot().openDB(name, { encoding: options.encoding ?? 'msgpack', cache: false, compression: false });
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
    // Taken before the write starts: any commit failure from now on may leave lmdb's
    // `flushed` pending until a later commit succeeds, so waiting on it alone could hang.
    const epoch = this.failures.count;
    let thrown: { error: unknown } | undefined;
    const guarded = () => {
      this.writing++;
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
    try {
      result = (await root.childTransaction(guarded)) as R;
    } catch (error) {
      throw await this.asStorageFailure(error, thrown !== undefined && thrown.error === error);
    }
    if (!(await this.failures.flushedUnless(epoch, root.flushed))) {
      throw new StorageFailureException('the disk failed before the write was confirmed durable; it may or may not be stored', false);
    }
    return result;
  }

  async close(): Promise<void> {
    const root = this.root;
    if (!root) return;
    this.root = undefined;
    this.databases.clear();
    // After a failed commit lmdb's close waits for a flush that never comes; do not hang shutdown on it.
    const closed = await Promise.race([root.close().then(() => true), delay(CLOSE_TIMEOUT).then(() => false)]);
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
  private async asStorageFailure(error: unknown, thrownByCallback: boolean): Promise<unknown> {
    const message = error instanceof Error ? error.message : String(error);
    if (thrownByCallback && !LMDB_FAILURE.test(message)) return error;
    this.failures.signal();
    // The real cause (ENOSPC, EIO, MDB_MAP_FULL) arrives a moment later on `commitError`.
    const commitError = (error as { commitError?: Promise<unknown> } | null)?.commitError;
    const cause = commitError ? await Promise.race([commitError.then(() => undefined, (reason: unknown) => reason), delay(CAUSE_WAIT)]) : undefined;
    const detail = cause instanceof Error ? cause.message : message;
    this.logger.error(`commit failed: ${detail}`);
    // lmdb often reports a full disk as EIO, so the file system is asked too.
    const diskFull = /MDB_MAP_FULL|ENOSPC|No space left/i.test(detail) || (await this.diskNearlyFull());
    return new StorageFailureException(
      diskFull ? 'the store is full: free disk space or raise mapSize; nothing was changed' : 'the store could not commit the write; nothing was changed',
      diskFull,
      { cause: cause ?? error },
    );
  }
}

/** Messages of lmdb's own failures (LMDB error names, errno names of the I/O underneath). */
const LMDB_FAILURE = /\bMDB_[A-Z_]+|\bE(NOSPC|IO|ROFS|DQUOT|NOMEM)\b|No space left/;

const CLOSE_TIMEOUT = 5_000;
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
