import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A tmpfs of its own, so a test can fill it; `fill` leaves `freeBytes` free with a filler file that `free` removes. */
export interface SmallDisk {
  path: string;
  fill: (freeBytes: number) => void;
  free: () => void;
  unmount: () => void;
}

/** Mounts a tmpfs of `size` (e.g. `32m`); needs root. Returns why not when mounting is refused. */
export function mountSmallDisk(size: string): SmallDisk | string {
  const path = mkdtempSync(join(tmpdir(), 'nde-small-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (error) {
    rmSync(path, { recursive: true, force: true });
    return `cannot mount a small tmpfs here (${(error as Error).message.split('\n')[0]})`;
  }
  const filler = join(path, 'filler');
  return {
    path,
    fill: (freeBytes) => {
      const stats = statfsSync(path);
      writeFileSync(filler, Buffer.alloc(Math.max(0, stats.bavail * stats.bsize - freeBytes)));
    },
    free: () => rmSync(filler, { force: true }),
    unmount: () => {
      execFileSync('umount', ['-l', path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}
