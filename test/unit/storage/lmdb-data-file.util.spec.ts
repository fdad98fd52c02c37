import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DamagedStoreException } from '../../../lib/storage/damaged-store.exception.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { assertWholeDataFile } from '../../../lib/storage/lmdb-data-file.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

/** Offsets in a meta page of lmdb 3's data format (see lmdb-data-file.util.ts). */
const MAGIC_AT = 24;
const PAGE_SIZE_AT = 48;
const LAST_PAGE_AT = 144;

/** The data.mdb of a small store written by lmdb through the package, and its page size. */
async function soundDataFile(path: string): Promise<{ bytes: Buffer; pageSize: number }> {
  const environment = new LmdbEnvironment(path);
  environment.open(2);
  const db = environment.database<string, number>('things');
  await environment.write(() => {
    for (let i = 0; i < 200; i++) db.putSync(i, 'x'.repeat(100));
  });
  const pageSize = environment.stat().pageSize;
  await environment.close();
  return { bytes: readFileSync(join(path, 'data.mdb')), pageSize };
}

/** A copy of `bytes` with `edit` applied. */
function edited(bytes: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(bytes);
  edit(copy);
  return copy;
}

describe('assertWholeDataFile', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let sound: { bytes: Buffer; pageSize: number };
  /** Writes `bytes` as the data.mdb of a fresh directory and checks it. */
  const check = (bytes: Buffer) => {
    const store = makeTempDir('nde-data-file-');
    try {
      writeFileSync(join(store.path, 'data.mdb'), bytes);
      assertWholeDataFile(store.path);
    } finally {
      store.remove();
    }
  };

  beforeAll(async () => {
    dir = makeTempDir();
    sound = await soundDataFile(join(dir.path, 'sound'));
  });
  afterAll(() => dir.remove());

  it('passes a data.mdb written by lmdb, and a directory that has none yet', () => {
    expect(() => check(sound.bytes)).not.toThrow();
    expect(() => assertWholeDataFile(join(dir.path, 'nowhere'))).not.toThrow();
  });

  it('reads the magic, the page size and the last page where lmdb 3 writes them', () => {
    expect(sound.bytes.readUInt32LE(MAGIC_AT)).toBe(0xbeefc0de);
    expect(sound.bytes.readUInt32LE(sound.pageSize + MAGIC_AT)).toBe(0xbeefc0de);
    expect(sound.bytes.readUInt32LE(PAGE_SIZE_AT)).toBe(sound.pageSize);
    const lastPage = Math.max(...[0, sound.pageSize].map((page) => Number(sound.bytes.readBigUInt64LE(page + LAST_PAGE_AT))));
    expect((lastPage + 1) * sound.pageSize).toBe(sound.bytes.length);
  });

  /** Damaged files made from the sound one, each with what the check must say about it. */
  const damaged: ReadonlyArray<[string, (sound: { bytes: Buffer; pageSize: number }) => { bytes: Buffer; problem: string }]> = [
    ['an empty file', () => ({ bytes: Buffer.alloc(0), problem: 'is empty (0 bytes), not an LMDB store' })],
    ['a file too short for a meta page', () => ({ bytes: Buffer.alloc(20), problem: 'is not an LMDB file (bad magic)' })],
    ['garbage', ({ bytes }) => ({ bytes: Buffer.alloc(bytes.length, 7), problem: 'is not an LMDB file (bad magic)' })],
    [
      'a file cut inside its first meta page',
      ({ bytes }) => ({ bytes: bytes.subarray(0, 100), problem: 'is truncated: 100 bytes, shorter than its first meta page' }),
    ],
    [
      'a first meta page with a page size that is not a power of two',
      ({ bytes }) => ({
        bytes: edited(bytes, (copy) => copy.writeUInt32LE(5000, PAGE_SIZE_AT)),
        problem: 'is damaged: its first meta page gives a page size of 5000',
      }),
    ],
    [
      'a file cut inside its second meta page',
      ({ bytes, pageSize }) => ({ bytes: bytes.subarray(0, pageSize + 64), problem: `less than its two meta pages (${2 * pageSize} bytes)` }),
    ],
    [
      'a second meta page without the magic',
      ({ bytes, pageSize }) => ({
        bytes: edited(bytes, (copy) => copy.writeUInt32LE(0, pageSize + MAGIC_AT)),
        problem: 'is damaged: its second meta page is not an LMDB meta page (bad magic)',
      }),
    ],
    [
      'a file cut to half',
      ({ bytes }) => ({
        bytes: bytes.subarray(0, bytes.length / 2),
        problem: `is truncated: ${bytes.length / 2} bytes, its meta page says at least ${bytes.length}`,
      }),
    ],
    [
      'a file missing only its last page',
      ({ bytes, pageSize }) => ({ bytes: bytes.subarray(0, bytes.length - pageSize), problem: `its meta page says at least ${bytes.length}` }),
    ],
  ];

  it.each(damaged)('refuses %s, naming the file and the problem', (_name, make) => {
    const { bytes, problem } = make(sound);
    let thrown: unknown;
    try {
      check(bytes);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DamagedStoreException);
    expect((thrown as Error).message).toMatch(/\/data\.mdb /);
    expect((thrown as Error).message).toContain(problem);
  });

  it('waits for a store that another process is creating right now', async () => {
    const store = makeTempDir('nde-data-file-');
    try {
      const file = join(store.path, 'data.mdb');
      writeFileSync(file, Buffer.alloc(0));
      const source = join(dir.path, 'sound', 'data.mdb');
      // The check blocks this thread while it waits, so the file is finished by another process.
      const writer = spawn('sh', ['-c', `sleep 0.15; cp '${source}' '${file}'`], { stdio: 'ignore' });
      const written = new Promise((resolve) => writer.once('exit', resolve));
      await new Promise((resolve) => writer.once('spawn', resolve));
      expect(() => assertWholeDataFile(store.path)).not.toThrow();
      await written;
    } finally {
      store.remove();
    }
  });

  it('keeps lmdb from opening a damaged file, so the environment stays closed', () => {
    const store = makeTempDir('nde-data-file-');
    try {
      writeFileSync(join(store.path, 'data.mdb'), sound.bytes.subarray(0, sound.bytes.length / 2));
      const environment = new LmdbEnvironment(store.path);
      expect(() => environment.open(2)).toThrow(DamagedStoreException);
      expect(environment.isOpen).toBe(false);
    } finally {
      store.remove();
    }
  });
});

describe('LmdbEnvironment opened read-only', () => {
  it('reads the store, but cannot write to it nor create a database in it', async () => {
    const dir = makeTempDir();
    try {
      const writer = new LmdbEnvironment(dir.path);
      writer.open(2);
      const things = writer.database<string, number>('things');
      await writer.write(() => things.putSync(1, 'one'));
      await writer.close();
      const before = readFileSync(join(dir.path, 'data.mdb'));

      const reader = new LmdbEnvironment(dir.path, {}, true);
      reader.open(2);
      try {
        expect(reader.database<string, number>('things').get(1)).toBe('one');
        expect(() => reader.database('other')).toThrow(`the store at ${dir.path} has no database other`);
        await expect(reader.write(() => undefined)).rejects.toThrow(`the store at ${dir.path} is open read-only`);
      } finally {
        await reader.close();
      }
      expect(readFileSync(join(dir.path, 'data.mdb')).equals(before)).toBe(true);
    } finally {
      dir.remove();
    }
  });
});
