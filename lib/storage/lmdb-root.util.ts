import { mkdirSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { open, type RootDatabase } from 'lmdb';
import type { LmdbTuning } from '../common/storage-options.interface.js';
import { assertWholeDataFile } from './lmdb-data-file.util.js';
import { openFailure } from './lmdb-open-failure.util.js';
import { lmdbOpenOptions } from './lmdb-open-options.util.js';
import { SharedTxnId } from './lmdb-shared-txn-id.store.js';

const CLOSE_TIMEOUT = 5_000;

/** Opens the LMDB environment of the data directory `path`, with the lock file's shared id of its last commit. */
export function openRoot(path: string, tuning: LmdbTuning, maxDbs: number, readOnly: boolean): { root: RootDatabase; sharedTxnId: SharedTxnId | undefined } {
  if (!readOnly) mkdirSync(path, { recursive: true });
  // lmdb maps a damaged file as it is: a page past the end of a truncated file kills the
  // process with SIGBUS, garbage sends it into a crash or an endless loop (issue 14).
  assertWholeDataFile(path);
  let root: RootDatabase;
  try {
    root = open(lmdbOpenOptions(path, tuning, maxDbs, readOnly));
  } catch (error) {
    throw openFailure(path, error);
  }
  try {
    return { root, sharedTxnId: SharedTxnId.attach(path) };
  } catch (error) {
    root.close().catch(() => undefined);
    throw openFailure(path, error);
  }
}

/** Closes `root`: true once it is closed, false when the close did not end within CLOSE_TIMEOUT ms. */
export function closeRoot(root: RootDatabase): Promise<boolean> {
  // After a failed commit lmdb's close waits for a flush that never comes; do not hang shutdown on it.
  // Unref'd: once the close is done, the timer must not keep the process alive (a CLI run would wait it out).
  return Promise.race([root.close().then(() => true), delay(CLOSE_TIMEOUT, false, { ref: false })]);
}
