import { statfs } from 'node:fs/promises';

/** Bytes an unprivileged process may still write on the file system that holds `path`. */
export async function freeDiskBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return stats.bavail * stats.bsize;
}
