import { ABORT, TransactionFlags, type Database, type DatabaseOptions, type RootDatabase } from 'lmdb';
import type { EntitiesLogger } from '../common/entities.logger.js';
import type { SharedTxnId } from './lmdb-shared-txn-id.store.js';
import { repairIfBehind, STALE_WRITE_ATTEMPTS } from './stale-write-repair.util.js';
import { StorageFailureException } from './storage-failure.exception.js';

/**
 * Opens a database of a writable environment, creating it when missing. lmdb creates one in
 * a write transaction of its own, which `write`'s check never sees: started behind the last
 * commit (see lmdb-last-txn.util), creating a database would replace that commit (a new
 * entity's or index's database, as an app starts beside others). So the database is opened
 * inside a transaction that checks first, and sets the shared id right when it is behind.
 */
export function openWritable(
  root: RootDatabase,
  path: string,
  sharedTxnId: SharedTxnId | undefined,
  name: string,
  options: DatabaseOptions,
  logger: EntitiesLogger,
): Database {
  for (let attempt = 1; ; attempt++) {
    let opened: Database | undefined;
    let repaired = false;
    root.transactionSync(
      () => {
        const start = repairIfBehind(root, sharedTxnId);
        if (start.behind) {
          repaired = start.repaired;
          return ABORT;
        }
        opened = root.openDB(name, options);
        return undefined;
      },
      // lmdb's own flags for opening a database, made abortable so that one started behind commits nothing.
      (TransactionFlags.ABORTABLE |
        TransactionFlags.SYNCHRONOUS_COMMIT |
        ((root as unknown as { overlappingSync?: boolean }).overlappingSync ? TransactionFlags.NO_SYNC_FLUSH : 0)) as TransactionFlags,
    );
    if (opened) return opened;
    if (!repaired) {
      throw new StorageFailureException(
        `opening database ${name} of ${path} started behind the last commit, and LMDB's record of it could not be set right`,
        false,
      );
    }
    if (attempt === STALE_WRITE_ATTEMPTS) {
      throw new StorageFailureException(`the store at ${path} kept starting writes behind its last commit; database ${name} was not opened`, false);
    }
    logger.warn(
      `opening database ${name} of ${path} started behind the last commit (an open of the store set LMDB back): set it right before opening it again`,
    );
  }
}
