import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';

/**
 * Copies the environment into the directory `path` from one read snapshot, so the copy is
 * consistent while writers carry on. `compact` leaves out free pages and renumbers the rest.
 */
export async function backupEnvironment(root: RootDatabase, path: string, compact: boolean): Promise<void> {
  mkdirSync(path, { recursive: true });
  // Copied beside its place and renamed into it once complete and synced: a copy cut short
  // (the process killed) must never look like a store to whoever opens the directory next.
  const partial = mkdtempSync(join(path, '.partial-'));
  try {
    await root.backup(partial, compact);
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
