import { StorageFailureException } from './storage-failure.exception.js';

const EINVAL = 22;

/**
 * LMDB lets the last process closing an environment destroy the mutexes in lock.mdb while
 * another process is opening it: the opener then fails with EINVAL ("Invalid argument"), and
 * so does every later open in that process. It happens only while no other process holds the
 * store (two command-line runs, or an app starting as one ends); a new process opens it again.
 * Every EINVAL at open is explained so, its cause kept; any other failure is passed on as it is.
 */
export function openFailure(path: string, error: unknown): unknown {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== EINVAL) return error;
  return new StorageFailureException(
    `LMDB could not open ${path} (${error.message}): most likely another process closed the store while this one opened it, ` +
      'which LMDB does not survive while no other process holds the store; start this process again',
    false,
    { cause: error },
  );
}
