import { ulidFactory } from './ulid.util.js';

/**
 * ULIDs: time-ordered, and monotonic within a process even when many are made in one
 * millisecond, so `id` order is creation order. Across processes the 80 random bits keep
 * them unique.
 */
export const nextRecordId: () => string = ulidFactory();

/** What a stored id can look like (generated ULIDs, ids kept by an import); anything else cannot exist. */
export const RECORD_ID = /^[A-Za-z0-9_-]{1,128}$/;
