import { isNativeError } from 'node:util/types';
import { EntitiesException } from '../common/entities.exception.js';

/**
 * Whether `error` is one lmdb's native code raised (an LMDB error such as MDB_MAP_FULL or
 * MDB_PANIC, or the errno of the I/O underneath): those carry LMDB's numeric return code.
 * Told by shape, never by message: the package's own errors and a user's quote ids, keys and
 * field names, which may read like `EIO` or `MDB_NOTFOUND`.
 */
export function isLmdbError(error: unknown): error is Error & { code: number } {
  // lmdb's native errors may come from another realm than this module's `Error` (under test runners).
  return isNativeError(error) && !(error instanceof EntitiesException) && typeof (error as { code?: unknown }).code === 'number';
}
