import type { RootDatabase } from 'lmdb';
import { newestCommitOf, startsBehindLastCommit } from './lmdb-last-txn.util.js';
import type { SharedTxnId } from './lmdb-shared-txn-id.store.js';

/** Each retry follows a reset; another opener racing every one of them is no accident. */
export const STALE_WRITE_ATTEMPTS = 5;

/** Inside a write transaction: whether it started behind the last commit, and if so whether the shared id was set right. */
export function repairIfBehind(root: RootDatabase, sharedTxnId: SharedTxnId | undefined): { behind: boolean; repaired: boolean } {
  const behind = startsBehindLastCommit(root);
  return { behind, repaired: behind && sharedTxnId !== undefined && catchUpInWriteLock(root, sharedTxnId) };
}

/**
 * Inside a write transaction, where no process can commit: sets the shared id of the last
 * commit to the newest commit in the data file when it is behind, as LMDB's own open does but
 * without its race. False when this process cannot write lock.mdb.
 */
function catchUpInWriteLock(root: RootDatabase, sharedTxnId: SharedTxnId): boolean {
  const newest = newestCommitOf(root);
  return sharedTxnId.read() >= newest || sharedTxnId.write(newest);
}
