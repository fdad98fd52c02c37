import { ulidFactory } from './ulid.util.js';

/**
 * ULIDs: time-ordered, and monotonic within a process even when many are made in one
 * millisecond, so `id` order is creation order. Across processes the 80 random bits keep
 * them unique.
 */
export const nextRecordId: () => string = ulidFactory();
