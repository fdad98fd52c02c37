import { open } from 'lmdb';
import { Entity, Field, Index } from '../../../lib/index.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { META_DB } from '../../../lib/storage/store-layout.util.js';
import { STORE_FORMAT } from '../../../lib/storage/store-format.util.js';
import { UnsupportedStoreFormatException } from '../../../lib/storage/unsupported-store-format.exception.js';
import type { IndexKey } from '../../../lib/storage/index-key.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('format-permits')
class FormatPermit {
  @Field() number!: string;
}

@Entity('format-sites')
class FormatSite {
  @Field() @Index() name!: string;
}

/** The last committed transaction id of the store at `path`, read by a plain read-only lmdb open. */
async function lastTxnId(path: string): Promise<number> {
  const root = open({ path, readOnly: true });
  try {
    return (root.getStats() as { lastTxnId: number }).lastTxnId;
  } finally {
    await root.close();
  }
}

/**
 * README ("Durability and limits"): an app of an older version "refuses a store in a newer
 * format with UnsupportedStoreFormatException ... rather than misread or damage it". EntityStorage
 * .openOnce runs openDatabases() (which creates every missing database in a commit of its own,
 * openWritable) before checkStoreFormat(): an older app declaring an entity the store does not
 * have yet commits new databases into the newer store before it refuses it.
 */
describe('an app refusing a store in a newer format', () => {
  it('commits nothing to it, also when it declares an entity the store does not have', async () => {
    const dir = makeTempDir('hunt-format-');
    try {
      const first = new EntityStorage(new LmdbEnvironment(dir.path));
      first.register(createEntityDefinition(FormatPermit));
      await first.open();
      await first.close();
      const environment = new LmdbEnvironment(dir.path);
      environment.open(8);
      const meta = environment.database<unknown, IndexKey>(META_DB);
      await environment.write(() => meta.putSync(['format'], STORE_FORMAT + 1));
      await environment.close();
      const before = await lastTxnId(dir.path);

      const older = new EntityStorage(new LmdbEnvironment(dir.path));
      older.register(createEntityDefinition(FormatPermit));
      older.register(createEntityDefinition(FormatSite));
      await expect(older.open()).rejects.toThrow(UnsupportedStoreFormatException);
      await older.close();

      expect(await lastTxnId(dir.path)).toBe(before);
    } finally {
      dir.remove();
    }
  });
});
