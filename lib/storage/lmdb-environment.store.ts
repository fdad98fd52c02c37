import { mkdirSync } from 'node:fs';
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
    this.root = open({ ...this.tuning, path: this.path, maxDbs, compression: false, cache: false, noSync: false, useWritemap: false });
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

  /**
   * Runs `fn` in a write transaction and resolves once the commit is flushed. `fn` runs
   * as an lmdb child transaction, so a throw rolls back everything it wrote while other
   * writes batched into the same LMDB transaction still commit.
   */
  async write<R>(fn: () => R): Promise<R> {
    const root = this.requireRoot();
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
      await root.flushed;
    } catch (error) {
      throw this.asStorageFailure(error, thrown !== undefined && thrown.error === error);
    }
    return result;
  }

  async close(): Promise<void> {
    const root = this.root;
    if (!root) return;
    this.root = undefined;
    this.databases.clear();
    await root.close();
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
  private asStorageFailure(error: unknown, thrownByCallback: boolean): unknown {
    const commitError = (error as { commitError?: Promise<unknown> } | null)?.commitError;
    if (commitError) commitError.catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    if (thrownByCallback && !LMDB_FAILURE.test(message)) return error;
    const diskFull = /MDB_MAP_FULL|ENOSPC|No space left/i.test(message);
    return new StorageFailureException(
      diskFull ? 'the store is full: free disk space or raise mapSize' : `the store could not commit the write: ${message}`,
      diskFull,
      { cause: error },
    );
  }
}

/** Messages of lmdb's own failures (LMDB error names, errno names of the I/O underneath). */
const LMDB_FAILURE = /\bMDB_[A-Z_]+|\bE(NOSPC|IO|ROFS|DQUOT|NOMEM)\b|No space left/;
