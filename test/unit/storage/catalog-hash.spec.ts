import type { Type } from '@nestjs/common';
import { Audited, Entity, Field, Historize, Index } from '../../../lib/index.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { catalogHash, earlierCatalogsOf, recordedCatalogHash } from '../../../lib/storage/catalog-hash.util.js';
import type { IndexKey } from '../../../lib/storage/index-key.util.js';
import type { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { readCatalog } from '../../../lib/storage/store-catalog.util.js';
import { META_DB } from '../../../lib/storage/store-layout.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { openStore } from './write-pipeline/store-harness.util.js';

@Entity('ch-items')
class Item {
  @Field() @Index() code!: string;
  @Field() @Historize({ versions: 3 }) status!: string;
  @Field({ required: false }) note?: string;
}

@Entity({ name: 'ch-items', path: 'items' })
class MovedWithLessHistory {
  @Field() code!: string;
  @Field() @Historize({ versions: 1 }) status!: string;
  @Field({ required: false }) @Index() note?: string;
  @Field({ required: false }) added?: string;
}

@Entity('ch-items')
class MoreHistory {
  @Field() @Index() code!: string;
  @Field() @Historize('full') status!: string;
}

@Entity('ch-items')
class NewUniqueIndex {
  @Field() @Index({ unique: true }) code!: string;
  @Field() @Historize({ versions: 3 }) status!: string;
}

@Entity('ch-items')
@Audited()
class NowAudited {
  @Field() @Index() code!: string;
  @Field() @Historize({ versions: 3 }) status!: string;
}

@Entity('ch-items')
class StatusRemoved {
  @Field() @Index() code!: string;
}

@Entity({ name: 'ch-items', softDelete: true })
class NowSoftDeleting {
  @Field() @Index() code!: string;
  @Field() @Historize({ versions: 3 }) status!: string;
}

/**
 * Which earlier catalogs a message from before a start may come from: those of the definitions
 * the store was last opened with, when events apply to the new ones as they did to those.
 */
describe('earlierCatalogsOf', () => {
  const dir = makeTempDir();
  let meta: Parameters<typeof earlierCatalogsOf>[0];
  let environment: LmdbEnvironment;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const opened = await openStore(dir.path, [Item]);
    environment = opened.environment;
    meta = opened.environment.database<unknown, IndexKey>(META_DB);
    close = () => opened.close();
  });
  afterAll(async () => {
    await close();
    dir.remove();
  });

  const earlierFor = (entity: Type<object>) => earlierCatalogsOf(meta, readCatalog(meta), [createEntityDefinition(entity)]);

  it('names the catalog the store was opened with, worked out the same from its catalog when none was recorded', () => {
    expect(recordedCatalogHash(meta, readCatalog(meta))).toBe(catalogHash([createEntityDefinition(Item)]));
    expect(earlierFor(MovedWithLessHistory)).toEqual([catalogHash([createEntityDefinition(Item)])]);
  });

  it.each([
    ['keeps more history of a field', MoreHistory],
    ['adds a unique index', NewUniqueIndex],
    ['is audited now', NowAudited],
    ['deletes softly now', NowSoftDeleting],
  ])('names none when the entity %s', (_, entity) => {
    expect(earlierFor(entity)).toEqual([]);
  });

  it('names none when a removed field kept history, which the store still holds', () => {
    expect(earlierFor(StatusRemoved)).toEqual([]);
  });

  it('names, in a store that recorded no hash, the one worked out from its catalog and that of the last message it applied', async () => {
    const recorded = meta.get(['catalog', 'hash']);
    await environment.write(() => {
      meta.removeSync(['catalog', 'hash']);
      meta.putSync(['replication', 'catalog'], 'of-the-last-message');
    });
    try {
      expect(earlierFor(MovedWithLessHistory)).toEqual([catalogHash([createEntityDefinition(Item)]), 'of-the-last-message']);
    } finally {
      await environment.write(() => {
        meta.putSync(['catalog', 'hash'], recorded);
        meta.removeSync(['replication', 'catalog']);
      });
    }
    expect(earlierFor(MovedWithLessHistory)).toEqual([recorded]);
  });
});
