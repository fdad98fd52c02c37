import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { dataFileProblem } from './lmdb-data-file.util.js';
import { StorageFailureException } from './storage-failure.exception.js';

const COPY_ATTEMPTS = 3;

/**
 * Copies the environment into the directory `path` from one read snapshot, so the copy is
 * consistent while writers carry on. `compact` leaves out free pages and renumbers the rest.
 * `resetLastTxn` sets LMDB's shared last-transaction id right before a copy is taken again.
 */
export async function backupEnvironment(root: RootDatabase, path: string, compact: boolean, resetLastTxn: () => Promise<void>): Promise<void> {
  mkdirSync(path, { recursive: true });
  // Copied beside its place and renamed into it once complete and synced: a copy cut short
  // (the process killed) must never look like a store to whoever opens the directory next.
  const partial = mkdtempSync(join(path, '.partial-'));
  try {
    for (let attempt = 1; ; attempt++) {
      await root.backup(partial, compact);
      // A copy taken while another process's open had set LMDB's last-transaction id back
      // copies the pages of that older snapshot under the newest meta pages: cut short.
      const problem = dataFileProblem(join(partial, 'data.mdb'));
      if (problem === undefined) break;
      if (attempt === COPY_ATTEMPTS) throw new StorageFailureException(`the backup's data.mdb ${problem}; nothing was left in ${path}`, false);
      rmSync(join(partial, 'data.mdb'));
      await resetLastTxn();
    }
    const file = await openFile(join(partial, 'data.mdb'), 'r+');
    await file.sync();
    await file.close();
    renameSync(join(partial, 'data.mdb'), join(path, 'data.mdb'));
    const dir = await openFile(path, 'r');
    await dir.sync();
    await dir.close();
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}
