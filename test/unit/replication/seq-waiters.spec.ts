import { jest } from '@jest/globals';
import { Logger, ServiceUnavailableException } from '@nestjs/common';
import { entityErrorToHttp } from '../../../lib/http/entity-error-mapping.util.js';
import { SeqNotAppliedException } from '../../../lib/replication/seq-not-applied.exception.js';
import { releaseWaiters, waitForSeq, type SeqWaiter } from '../../../lib/replication/seq-waiters.util.js';
import { StorageFailureException } from '../../../lib/storage/storage-failure.exception.js';

describe('waiting for a replicated seq', () => {
  afterEach(() => jest.restoreAllMocks());

  it('resolves once the seq is applied, and leaves no waiter behind', async () => {
    const waiters = new Set<SeqWaiter>();
    const waiting = waitForSeq(waiters, 5, 10_000, { appliedSeq: 3 });
    releaseWaiters(waiters, 4);
    expect(waiters.size).toBe(1);
    releaseWaiters(waiters, 5);
    await expect(waiting).resolves.toBeUndefined();
    expect(waiters.size).toBe(0);
  });

  it('fails in time as a StorageFailureException naming both seqs', async () => {
    const waiters = new Set<SeqWaiter>();
    const failure = await waitForSeq(waiters, 9, 20, { appliedSeq: 7 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SeqNotAppliedException);
    expect(failure).toBeInstanceOf(StorageFailureException);
    expect((failure as Error).message).toBe('this instance has applied the replicated changes up to 7, not yet 9');
    expect(waiters.size).toBe(0);
  });

  it('answers a wait that timed out with 503 and logs it as a warning, a failed store as an error', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    expect(entityErrorToHttp(new SeqNotAppliedException(9, 7))).toBeInstanceOf(ServiceUnavailableException);
    expect(warn).toHaveBeenCalledWith('this instance has applied the replicated changes up to 7, not yet 9');
    expect(error).not.toHaveBeenCalled();
    expect(entityErrorToHttp(new StorageFailureException('replication stopped', false))).toBeInstanceOf(ServiceUnavailableException);
    expect(error).toHaveBeenCalledTimes(1);
  });
});
