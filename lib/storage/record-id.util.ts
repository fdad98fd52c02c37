import { RecordNotFoundException } from './record-not-found.exception.js';
import { ulidFactory } from './ulid.util.js';

/**
 * ULIDs: time-ordered, and monotonic within a process even when many are made in one
 * millisecond, so `id` order is creation order. Across processes the 80 random bits keep
 * them unique.
 */
export const nextRecordId: () => string = ulidFactory();

/** What a stored id can look like (generated ULIDs, ids kept by an import); anything else cannot exist. */
export const RECORD_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Whether a record can have `id`. */
export function isRecordId(id: unknown): id is string {
  return typeof id === 'string' && RECORD_ID.test(id);
}

/**
 * Whether `id` is the name of a route beside the records' own, which would answer in place of
 * a record with that id (`GET /P/changes` is the change feed). Any case: Express matches paths
 * regardless of case. Generated ids never are; an import refuses them.
 */
export function isRouteName(id: string): boolean {
  return id.toLowerCase() === 'changes';
}

/**
 * `id`, when a record of `entity` can have it; a `RecordNotFoundException` otherwise, before
 * the id reaches lmdb, whose keys it may not even fit (a `RangeError` there).
 */
export function checkRecordId(entity: string, id: unknown): string {
  if (isRecordId(id)) return id;
  throw new RecordNotFoundException(entity, String(id));
}
