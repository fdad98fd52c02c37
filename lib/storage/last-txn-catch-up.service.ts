import type { RootDatabase } from 'lmdb';
import type { EntitiesLogger } from '../common/entities.logger.js';
import { newestCommitOf, resetLastTxn } from './lmdb-last-txn.util.js';
import type { SharedTxnId } from './lmdb-shared-txn-id.store.js';

/**
 * Sets LMDB's shared id of the last commit right once an open of the store set it back (see
 * lmdb-last-txn.util): after this process's own open, and whenever a write or the watchdog
 * finds it behind.
 */
export class LastTxnCatchUp {
  /** Setting the shared id right after this process's own open found it behind. */
  private catchingUp?: Promise<void>;
  private resetting?: Promise<void>;

  constructor(
    private readonly path: string,
    private readonly logger: EntitiesLogger,
    /** A write that changes nothing, or `undefined` when this process cannot write now (read-only, or stopped). */
    private readonly writeNothing: () => Promise<void> | undefined,
    private readonly isOpen: () => boolean,
  ) {}

  /** Right after this process opened `root`: starts setting the shared id right if the open set it back. */
  afterOpen(root: RootDatabase, sharedTxnId: SharedTxnId | undefined): void {
    // Opening may itself have set the shared last-transaction id back (see lmdb-last-txn.util):
    // every process would then read an older state until it is set right. The newest commit
    // is read first: a commit between the two reads then only moves the shared id on.
    const newest = newestCommitOf(root);
    if (sharedTxnId && sharedTxnId.read() < newest) {
      this.logger.warn(`opening ${this.path} set LMDB's last transaction back (another process committed meanwhile): setting it right`);
      const catchingUp = this.catchUp()
        .catch((error: unknown) => this.logger.warn(error instanceof Error ? error.message : String(error)))
        .finally(() => {
          if (this.catchingUp === catchingUp) this.catchingUp = undefined;
        });
      this.catchingUp = catchingUp;
    }
  }

  /** Resolves once reads start from the newest commit again, if this process's open found them behind. */
  async caughtUp(): Promise<void> {
    await this.catchingUp;
  }

  /**
   * Sets the shared id right when it is behind. A write does it, even one that changes
   * nothing (see `LmdbEnvironment.checkStart`), without blocking this thread while another
   * process holds the write lock; a process that cannot write has a child process do it.
   */
  catchUp(): Promise<void> {
    const written = this.writeNothing();
    if (!written) return this.reset();
    // Closed meanwhile: a child's open of a closed store would only risk the race again.
    return written.catch(() => (this.isOpen() ? this.reset() : undefined));
  }

  /** One reset at a time, shared by the writes and the watchdog that need it. */
  reset(): Promise<void> {
    this.resetting ??= resetLastTxn(this.path).finally(() => (this.resetting = undefined));
    return this.resetting;
  }
}
