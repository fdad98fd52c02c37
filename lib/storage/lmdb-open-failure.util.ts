import { isNativeError } from 'node:util/types';
import { saysDiskFull } from './disk-space.util.js';
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
  if (!isNativeError(error) || (error as { code?: unknown }).code !== EINVAL) return error;
  return new StorageFailureException(
    `LMDB could not open ${path} (${error.message}): most likely another process closed the store while this one opened it, ` +
      'which LMDB does not survive while no other process holds the store; start this process again',
    false,
    { cause: error },
  );
}

/** lmdb's code when an environment holds as many databases as it was opened for. */
const MDB_DBS_FULL = -30791;

/**
 * What opening one database of an open store failed with, for the caller: the store's own
 * failures as they are, the rest (a full table of databases, an I/O error on lock.mdb or the
 * data file) as a `StorageFailureException` naming the store and database, its cause kept.
 */
export function databaseOpenFailure(path: string, name: string, error: unknown): unknown {
  // lmdb's native errors may come from another realm than this module's `Error` (under test runners).
  if (error instanceof StorageFailureException || !isNativeError(error)) return error;
  if ((error as { code?: unknown }).code === MDB_DBS_FULL) {
    return new StorageFailureException(
      `the store at ${path} was opened for fewer databases than database ${name} needs: import every module registering ` +
        'entities (EntitiesModule.forFeature) before the application initialises, so that the store opens for all of them',
      false,
      { cause: error },
    );
  }
  return new StorageFailureException(`could not open database ${name} of the store at ${path}: ${error.message}`, saysDiskFull(error.message), {
    cause: error,
  });
}
