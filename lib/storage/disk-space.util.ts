import { statfs } from 'node:fs/promises';

/** Bytes an unprivileged process may still write on the file system that holds `path`. */
export async function freeDiskBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return stats.bavail * stats.bsize;
}

/** Whether an lmdb or system error message says the map or the disk is full. */
export function saysDiskFull(message: string): boolean {
  return /MDB_MAP_FULL|ENOSPC|No space left/i.test(message);
}
