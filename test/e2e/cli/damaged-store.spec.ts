import 'reflect-metadata';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { STORE_FORMAT } from '../../../lib/storage/store-format.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { runCli } from './cli-process.util.js';
import { seedSampleStore } from './cli-store.util.js';

/** Ways a data.mdb gets damaged, from the bytes of a sound one, with what the command line must say. */
const DAMAGES: ReadonlyArray<{ name: string; damage: (sound: Buffer) => Buffer; says: RegExp }> = [
  {
    name: 'a data.mdb cut to half its size',
    damage: (sound) => sound.subarray(0, sound.length / 2),
    says: /data\.mdb is truncated: \d+ bytes, its meta page says at least \d+$/,
  },
  {
    name: 'a data.mdb of garbage bytes',
    damage: (sound) => Buffer.alloc(sound.length, 'not an LMDB file; '),
    says: /data\.mdb is not an LMDB file \(bad magic\)$/,
  },
  { name: 'a zero-length data.mdb', damage: () => Buffer.alloc(0), says: /data\.mdb is empty \(0 bytes\), not an LMDB store: / },
];

/** Every file of a directory with its bytes and modification time. */
function snapshot(path: string): Array<{ name: string; bytes: string; mtime: number }> {
  return readdirSync(path).map((name) => ({ name, bytes: readFileSync(join(path, name)).toString('base64'), mtime: statSync(join(path, name)).mtimeMs }));
}

describe('cli on a damaged store', () => {
  const template = makeTempDir('nde-cli-damaged-template-');
  let sound: Buffer;

  beforeAll(async () => {
    await seedSampleStore(join(template.path, 'store'));
    sound = readFileSync(join(template.path, 'store', 'data.mdb'));
  });
  afterAll(() => template.remove());

  for (const { name, damage, says } of DAMAGES) {
    for (const command of [['stat'], ['verify'], ['export'], ['rebuild-indexes']]) {
      it(`${command[0]} on ${name} exits 1 with one line naming the file and the problem, and creates or changes no file`, async () => {
        const dir = makeTempDir('nde-cli-damaged-');
        try {
          writeFileSync(join(dir.path, 'data.mdb'), damage(sound));
          const before = snapshot(dir.path);

          const result = await runCli([...command, '--path', dir.path]);

          expect(result.code).toBe(1);
          expect(result.stdout).toBe('');
          const lines = result.stderr.trimEnd().split('\n');
          expect(lines).toHaveLength(1);
          expect(lines[0]).toMatch(says);
          expect(lines[0]).toContain(`error: ${join(dir.path, 'data.mdb')} `);
          expect(snapshot(dir.path)).toEqual(before);
        } finally {
          dir.remove();
        }
      });
    }
  }

  it('stat and verify leave every byte and the modification time of a sound store as they were', async () => {
    const dir = makeTempDir('nde-cli-sound-');
    try {
      writeFileSync(join(dir.path, 'data.mdb'), sound);
      const before = snapshot(dir.path);

      expect((await runCli(['stat', '--path', dir.path])).code).toBe(0);
      expect((await runCli(['verify', '--path', dir.path])).code).toBe(0);

      // LMDB's lock file is the readers' table, not the store; it is made on the first open.
      expect(snapshot(dir.path).filter((file) => file.name !== 'lock.mdb')).toEqual(before);
    } finally {
      dir.remove();
    }
  });

  it('stat on a missing store exits 3 and creates neither the directory nor a file in an empty one', async () => {
    const dir = makeTempDir('nde-cli-missing-');
    try {
      const missing = join(dir.path, 'nowhere');
      const empty = join(dir.path, 'empty');
      mkdirSync(empty);

      expect((await runCli(['stat', '--path', missing])).code).toBe(3);
      expect((await runCli(['stat', '--path', empty])).code).toBe(3);

      expect(existsSync(missing)).toBe(false);
      expect(readdirSync(empty)).toEqual([]);
    } finally {
      dir.remove();
    }
  });
});

describe('cli on a store in a newer format', () => {
  const dir = makeTempDir('nde-cli-newer-format-');
  const store = join(dir.path, 'store');

  beforeAll(async () => {
    await seedSampleStore(store);
    // As a later version of the package would leave it.
    const environment = new LmdbEnvironment(store);
    environment.open(64);
    const meta = environment.database<number, string[]>('_meta');
    await environment.write(() => meta.putSync(['format'], STORE_FORMAT + 1));
    await environment.close();
  });
  afterAll(() => dir.remove());

  for (const command of [['stat'], ['verify'], ['export'], ['rebuild-indexes']]) {
    it(`${command[0]} exits 1 naming the format and changes nothing`, async () => {
      const before = readFileSync(join(store, 'data.mdb'));
      const result = await runCli([...command, '--path', store]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trimEnd()).toBe(
        `error: the store at ${store} has format ${STORE_FORMAT + 1}, newer than the format ${STORE_FORMAT} this version of nestjs-declarative-entities reads: upgrade the package`,
      );
      expect(readFileSync(join(store, 'data.mdb')).equals(before)).toBe(true);
    });
  }
});
