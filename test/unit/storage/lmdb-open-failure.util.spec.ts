import { openFailure } from '../../../lib/storage/lmdb-open-failure.util.js';
import { StorageFailureException } from '../../../lib/storage/storage-failure.exception.js';

describe('openFailure', () => {
  it('explains the EINVAL of an open that raced another process closing the store', () => {
    const lmdbError = Object.assign(new Error('Invalid argument'), { code: 22 });

    const failure = openFailure('/srv/data', lmdbError);

    expect(failure).toBeInstanceOf(StorageFailureException);
    expect((failure as StorageFailureException).message).toMatch(/^LMDB could not open \/srv\/data \(Invalid argument\): .*start this process again$/);
    expect((failure as StorageFailureException).cause).toBe(lmdbError);
  });

  it('passes any other failure on as it is', () => {
    const denied = Object.assign(new Error('Permission denied'), { code: 13 });

    expect(openFailure('/srv/data', denied)).toBe(denied);
    expect(openFailure('/srv/data', 'not an error')).toBe('not an error');
  });
});
