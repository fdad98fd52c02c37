import type { RootDatabaseOptions } from 'lmdb';
import type { LmdbTuning } from '../common/storage-options.interface.js';

/** How every store opens its environment: the user's tuning, never at the cost of durability. */
export function lmdbOpenOptions(path: string, tuning: LmdbTuning, maxDbs: number, readOnly: boolean): RootDatabaseOptions & { path: string } {
  // overlappingSync stays at lmdb's default; durability comes from awaiting `flushed`
  // in `write`. Compression and lmdb's object cache cost more than they save here.
  // noSubdir: false, or lmdb takes a directory name with a dot in it for a file name.
  // eventTurnBatching: false, because with it every failed commit also rejects the promise
  // of lmdb's own event-turn batch, which nobody holds: an unhandled rejection that ends
  // the process (the family of kriszyp/lmdb-js#368). Our writes are explicit transactions,
  // which lmdb still groups into one commit while the previous one syncs, so durable
  // throughput still grows with concurrency.
  return {
    ...tuning,
    path,
    noSubdir: false,
    eventTurnBatching: false,
    maxDbs,
    compression: false,
    cache: false,
    noSync: false,
    useWritemap: false,
    readOnly,
  } as RootDatabaseOptions & { path: string };
}
