import { freeDiskBytes, saysDiskFull } from './disk-space.util.js';
import { setTimeout as delay } from 'node:timers/promises';
import type { EntitiesLogger } from '../common/entities.logger.js';
import { FailureSignal } from './failure-signal.service.js';
import { isLmdbError } from './lmdb-error.util.js';
import { StopSignal } from './stop-signal.service.js';
import { StorageFailureException } from './storage-failure.exception.js';

const CAUSE_WAIT = 100;
/** Free space below which a failed commit is taken for a full disk. */
const FULL_DISK_BYTES = 4 * 1024 * 1024;

/**
 * What a failed write means for the store: nothing changed (writes go on), the disk is full
 * (writes go on once there is room), or the disk's state is unknown, after which every write
 * is refused (fail-stop) and the ones in flight fail.
 */
export class WriteFailures {
  private readonly failures = new FailureSignal();
  private readonly stop = new StopSignal();
  private stopped?: StorageFailureException;

  constructor(
    private readonly path: string,
    private readonly logger: EntitiesLogger,
    /** The id of the newest commit readers can see, or +Infinity when the environment cannot tell. */
    private readonly lastCommittedTxnId: () => number,
  ) {}

  /** Why writes are refused, once a failure left the store's durable state unknown; `undefined` while it is sound. */
  get stoppedBy(): StorageFailureException | undefined {
    return this.stopped;
  }

  /**
   * Taken before a write starts: any commit failure from then on may leave lmdb's `flushed`
   * pending until a later commit succeeds, so a write must not wait on it alone.
   */
  get epoch(): number {
    return this.failures.count;
  }

  /** Settles as the commit does, unless the store stops first. */
  race<T>(commit: Promise<T>): Promise<T> {
    return this.stop.race(commit);
  }

  /** Resolves true once `flushed` does, or false at a failure since `epoch`. */
  flushedUnless(epoch: number, flushed: PromiseLike<unknown>): Promise<boolean> {
    return this.failures.flushedUnless(epoch, flushed);
  }

  /**
   * Refuses every write from now on and fails the ones in flight. After a failed sync Linux
   * may have dropped the dirty pages while marking them clean, and later commits would build
   * on pages that never reached the disk; only a restart (LMDB recovers from its last good
   * meta page) makes acknowledgements trustworthy again. Reads go on.
   */
  failStop(reason: string, cause?: unknown, failure?: StorageFailureException): StorageFailureException {
    if (!this.stopped) {
      this.stopped =
        failure ?? new StorageFailureException(`the store had a write failure (${reason}); writes are refused until the process restarts`, false, { cause });
      this.logger.error(`${this.stopped.message}; reads go on`);
      this.stop.fire(this.stopped);
      // Writes waiting for `flushed` would wait for a later commit that will never come.
      this.failures.signal();
    }
    return this.stopped;
  }

  /**
   * What `fn` throws passes through unchanged (domain errors, a user's own errors), unless
   * it is lmdb failing a write inside it. Anything that fails the commit itself is a storage
   * failure; it also carries lmdb's `commitError` promise, which rejects later, so it is
   * handled here and can never surface as an unhandled rejection that takes the process down.
   * `txnId` is the LMDB transaction the write went into.
   */
  async classify(error: unknown, thrownByCallback: boolean, txnId: number | undefined): Promise<unknown> {
    if (thrownByCallback && !isLmdbError(error)) return error;
    const message = error instanceof Error ? error.message : String(error);
    this.failures.signal();
    // Read now, not after waiting for the cause: space freed meanwhile would make a full disk look like a failing one.
    const nearlyFull = this.diskNearlyFull();
    // The real cause (ENOSPC, EIO, MDB_MAP_FULL) arrives a moment later on `commitError`.
    const commitError = (error as { commitError?: Promise<unknown> } | null)?.commitError;
    const cause = commitError
      ? await Promise.race([
          commitError.then(
            () => undefined,
            (reason: unknown) => reason,
          ),
          delay(CAUSE_WAIT),
        ])
      : undefined;
    const detail = cause instanceof Error ? cause.message : message;
    this.logger.error(`commit failed: ${detail}`);
    // A commit that failed before its meta page was written left the store as it was: nothing
    // changed, and writes may go on (a full disk fails this way, on the first data page that
    // finds no room). Once the meta page is written the commit is visible, and a failure after
    // that (a sync) leaves what is on disk unknown: the store stops writing.
    if (txnId !== undefined && this.lastCommittedTxnId() < txnId) {
      // LMDB reports a short write, which is how a full disk shows first, as EIO, so the file system is asked too.
      const diskFull = saysDiskFull(detail) || (await nearlyFull);
      if (diskFull)
        return new StorageFailureException('the store is full: free disk space or raise mapSize; nothing was changed', true, { cause: cause ?? error });
      return new StorageFailureException(`the write failed (${detail}); nothing was changed`, false, { cause: cause ?? error });
    }
    const stopped = this.failStop(detail, cause ?? error);
    return new StorageFailureException(`the write may or may not be stored: ${stopped.message}`, false, { cause: cause ?? error });
  }

  private async diskNearlyFull(): Promise<boolean> {
    try {
      return (await freeDiskBytes(this.path)) < FULL_DISK_BYTES;
    } catch {
      return false;
    }
  }
}
