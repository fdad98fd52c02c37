import 'reflect-metadata';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import type { IndexKey } from '../../../lib/storage/index-key.util.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { STORE_FORMAT } from '../../../lib/storage/store-format.util.js';
import { META_DB } from '../../../lib/storage/store-layout.util.js';
import { UnsupportedStoreFormatException } from '../../../lib/storage/unsupported-store-format.exception.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('permits')
class Permit {
  @Field() number!: string;
}
const permits = createEntityDefinition(Permit);

/** Opens the store at `path` as an app would, runs `fn` on it, and closes it. */
async function withStorage<R>(path: string, fn: (storage: EntityStorage) => Promise<R>, mode: 'open' | 'attach' = 'open'): Promise<R> {
  const storage = new EntityStorage(new LmdbEnvironment(path));
  storage.register(permits);
  try {
    await (mode === 'open' ? storage.open() : storage.attach());
    return await fn(storage);
  } finally {
    await storage.close();
  }
}

/** Sets `_meta`'s format key by hand (`undefined` removes it), as another version would have left it. */
async function setFormat(path: string, format: number | undefined): Promise<void> {
  const environment = new LmdbEnvironment(path);
  environment.open(8);
  const meta = environment.database<unknown, IndexKey>(META_DB);
  await environment.write(() => (format === undefined ? meta.removeSync(['format']) : meta.putSync(['format'], format)));
  await environment.close();
}

async function formatOf(path: string): Promise<unknown> {
  const environment = new LmdbEnvironment(path, {}, true);
  environment.open(8);
  try {
    return environment.database<unknown, IndexKey>(META_DB).get(['format']);
  } finally {
    await environment.close();
  }
}

describe('the store format', () => {
  let dir: ReturnType<typeof makeTempDir>;

  beforeEach(() => {
    dir = makeTempDir('nde-format-');
  });
  afterEach(() => dir.remove());

  it('is recorded when an app first opens a store', async () => {
    await withStorage(dir.path, async () => undefined);
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });

  it('is recorded on a store written before the format was, whose records stay as they were', async () => {
    const created = await withStorage(dir.path, (storage) => storage.write((tx) => tx.create(permits, { number: 'P-1' })));
    await setFormat(dir.path, undefined);
    expect(await formatOf(dir.path)).toBeUndefined();

    const read = await withStorage(dir.path, async (storage) => storage.tablesOf(permits).records.get(created.id));
    expect(read).toEqual(created);
    expect(await formatOf(dir.path)).toBe(1);
  });

  it('is recorded by a tool that attaches to write, and not by one that only reads', async () => {
    await withStorage(dir.path, async () => undefined);
    await setFormat(dir.path, undefined);
    await withStorage(dir.path, async () => undefined, 'attach');
    expect(await formatOf(dir.path)).toBeUndefined();
    const storage = new EntityStorage(new LmdbEnvironment(dir.path));
    storage.register(permits);
    await storage.attach('cli import');
    await storage.close();
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });

  it.each(['open', 'attach'] as const)('refuses (%s) a store in a newer format, and writes nothing to it', async (mode) => {
    await withStorage(dir.path, async () => undefined);
    await setFormat(dir.path, STORE_FORMAT + 1);

    const storage = new EntityStorage(new LmdbEnvironment(dir.path));
    storage.register(permits);
    const opening = mode === 'open' ? storage.open('app') : storage.attach('cli import');
    await expect(opening).rejects.toThrow(UnsupportedStoreFormatException);
    await expect(opening).rejects.toThrow(
      `the store at ${dir.path} has format ${STORE_FORMAT + 1}, newer than the format ${STORE_FORMAT} this version of nestjs-declarative-entities reads: upgrade the package`,
    );
    expect(storage.writers()).toEqual([]);
    await storage.close();
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT + 1);
  });
});
