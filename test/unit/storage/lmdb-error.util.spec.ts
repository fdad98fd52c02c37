import { constants } from 'node:os';
import { RecordNotFoundException } from '../../../lib/storage/record-not-found.exception.js';
import { isLmdbError } from '../../../lib/storage/lmdb-error.util.js';

/** As lmdb's native code makes its errors (napi Error::New, then `code` set): a plain Error whose one enumerable property is the code. */
function native(message: string, code: number): Error {
  return Object.assign(new Error(message), { code });
}

class AppError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

describe('isLmdbError', () => {
  it("takes lmdb's own errors: LMDB codes with their names, and the errnos of the I/O under it", () => {
    expect(isLmdbError(native('MDB_PANIC: Update of meta page failed or environment had fatal error', -30795))).toBe(true);
    expect(isLmdbError(native('MDB_MAP_FULL: Environment mapsize limit reached', -30792))).toBe(true);
    expect(isLmdbError(native('Input/output error', constants.errno.EIO))).toBe(true);
    expect(isLmdbError(native('No space left on device', constants.errno.ENOSPC))).toBe(true);
    expect(isLmdbError(native('Invalid argument: MDB_PANIC: Update of meta page failed or environment had fatal error', constants.errno.EINVAL))).toBe(true);
  });

  it('takes no other error, whatever its message or code says', () => {
    expect(isLmdbError(new Error('MDB_PANIC: quoted by someone'))).toBe(false);
    expect(isLmdbError(new RecordNotFoundException('notes', 'EIO'))).toBe(false);
    expect(isLmdbError(new AppError('insufficient funds', 402))).toBe(false);
    expect(isLmdbError(new AppError('Input/output error', constants.errno.EIO))).toBe(false);
    expect(isLmdbError(Object.assign(new Error('unavailable'), { code: constants.errno.EIO, details: 'grpc' }))).toBe(false);
    expect(isLmdbError(native('a code of LMDB without its name', -30795))).toBe(false);
    expect(isLmdbError(native('a code of no I/O failure', 402))).toBe(false);
    expect(isLmdbError(native('Invalid argument', constants.errno.EINVAL))).toBe(false);
    expect(isLmdbError({ code: -30795, message: 'MDB_PANIC: not an Error' })).toBe(false);
  });
});
