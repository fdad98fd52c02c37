import { constants } from 'node:os';
import { isNativeError } from 'node:util/types';
import { EntitiesException } from '../common/entities.exception.js';

/** LMDB's own return codes (MDB_KEYEXIST … MDB_LAST_ERRCODE); their messages start with the code's name. */
const LMDB_CODES = { min: -30799, max: -30700 };
/**
 * The errnos of the I/O under LMDB that a write or read may meet (lmdb-js passes them on as
 * positive codes); EINVAL is how a read of a panicked environment fails ("Invalid argument: MDB_PANIC: ...").
 */
const IO_ERRNOS: ReadonlySet<number> = new Set(
  [
    constants.errno.EIO,
    constants.errno.ENOSPC,
    constants.errno.EROFS,
    constants.errno.EDQUOT,
    constants.errno.ENOMEM,
    constants.errno.EFBIG,
    constants.errno.EINVAL,
  ].filter((errno): errno is number => errno !== undefined),
);

/**
 * Whether `error` is one lmdb's native code raised (an LMDB error such as MDB_MAP_FULL or
 * MDB_PANIC, or the errno of the I/O underneath). Told by shape, never by message alone: the
 * package's own errors and a user's quote ids, keys and field names, which may read like
 * `EIO` or `MDB_NOTFOUND`, and a user's errors may carry a numeric `code` of their own. lmdb's
 * are plain `Error`s whose one own enumerable property is that code.
 */
export function isLmdbError(error: unknown): error is Error & { code: number } {
  // lmdb's native errors may come from another realm than this module's `Error` (under test runners).
  if (!isNativeError(error) || error instanceof EntitiesException) return false;
  const { code } = error as { code?: unknown };
  if (typeof code !== 'number' || Object.getPrototypeOf(error)?.constructor?.name !== 'Error') return false;
  if (Object.keys(error).some((key) => key !== 'code')) return false;
  if (code >= LMDB_CODES.min && code <= LMDB_CODES.max) return error.message.includes('MDB_');
  // EINVAL is also how LMDB refuses a call made wrong (a dead database handle): a bug, not the store failing.
  return IO_ERRNOS.has(code) && (code !== constants.errno.EINVAL || error.message.includes('MDB_'));
}
