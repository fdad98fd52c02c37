import type { DatabaseOptions, RootDatabaseOptions } from 'lmdb';
import type { LmdbTuning } from '../common/storage-options.interface.js';
import { RECORD_LISTING_DB } from './record-listing.util.js';

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

/** Where a database that shares msgpack structures keeps them (lmdb hides the key from reads and ranges). */
export const STRUCTURES_KEY = Symbol.for('structures');

/**
 * Databases whose values are objects of a few recurring shapes (records, deleted records, history entries
 * in the record listing, events, audit entries) share their msgpack structures, stored once in the database, rather
 * than carrying each shape's keys in every value: a third smaller, decoded in about half the
 * time. Values written without (store format 1) stay readable. Index, metadata and ACL
 * databases hold no such values.
 */
export function sharesStructures(database: string): boolean {
  return (
    database.endsWith('.records') ||
    database.endsWith('.deleted') ||
    database.endsWith('.history') ||
    database === '_log' ||
    database === '_audit' ||
    database === RECORD_LISTING_DB
  );
}

/** How every store opens one of its databases. */
export function lmdbDatabaseOptions(database: string, encoding: 'msgpack' | 'binary' = 'msgpack'): DatabaseOptions {
  return {
    encoding,
    cache: false,
    compression: false,
    ...(encoding === 'msgpack' && sharesStructures(database) && { sharedStructuresKey: STRUCTURES_KEY }),
  } as DatabaseOptions;
}
