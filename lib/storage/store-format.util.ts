import type { Database } from 'lmdb';
import type { IndexKey } from './index-key.util.js';
import { UnsupportedStoreFormatException } from './unsupported-store-format.exception.js';

/**
 * The layout of the databases this version writes. A store without the key was written before
 * the key existed, in format 1. A change of layout raises it, with a migration from the one before.
 *
 * - 1: msgpack values, each carrying its keys.
 * - 2: records, history entries, events and audit entries share their msgpack structures (see
 *   `sharesStructures`). A format 1 value stays readable as it is, so moving a store from 1 to
 *   2 rewrites nothing; but a version that reads only format 1 cannot decode what 2 writes.
 */
export const STORE_FORMAT = 2;
const FORMAT_KEY: IndexKey = ['format'];

/** Refuses the store whose `_meta` database this is when its format is newer than this version reads. */
export function checkStoreFormat(meta: Database<unknown, IndexKey>, path: string): void {
  const stored = meta.get(FORMAT_KEY);
  const format = typeof stored === 'number' ? stored : 1;
  if (format > STORE_FORMAT) throw new UnsupportedStoreFormatException(path, format, STORE_FORMAT);
}

/** Marks the store as being in this version's format; inside a write transaction. */
export function recordStoreFormat(meta: Database<unknown, IndexKey>): void {
  meta.putSync(FORMAT_KEY, STORE_FORMAT);
}
