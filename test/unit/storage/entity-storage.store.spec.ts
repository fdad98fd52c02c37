import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { Index } from '../../../lib/decorators/index.decorator.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { EntityRepository } from '../../../lib/repository/entity.repository.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { encodeKey, indexKeyOf, type IndexKey, type KeyComponent } from '../../../lib/storage/index-key.util.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('permits')
class Permit {
  @Field() number!: string;
}

@Entity('permits')
class OtherPermit {
  @Field() code!: string;
}

@Entity({ name: 'licenses', path: 'permits' })
class License {
  @Field() number!: string;
}

@Entity({ name: 'inspections', path: 'checks' })
class Inspection {
  @Field() result!: string;
}

@Entity({ name: 'audits', path: '/checks/' })
class Audit {
  @Field() note!: string;
}

describe('EntityStorage.register', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let storage: EntityStorage;

  beforeEach(() => {
    dir = makeTempDir();
    storage = new EntityStorage(new LmdbEnvironment(dir.path));
  });

  afterEach(async () => {
    await storage.close();
    dir.remove();
  });

  it('registers entities with distinct names and paths', () => {
    storage.register(createEntityDefinition(Permit));
    storage.register(createEntityDefinition(Inspection));
    expect(storage.registered().map((definition) => definition.name)).toEqual(['permits', 'inspections']);
    expect(storage.definitionOf(Inspection).name).toBe('inspections');
  });

  it('accepts the same class twice as one entity', () => {
    storage.register(createEntityDefinition(Permit));
    storage.register(createEntityDefinition(Permit));
    expect(storage.registered()).toHaveLength(1);
  });

  it('rejects a second class with the same entity name, naming both classes and the name', () => {
    storage.register(createEntityDefinition(Permit));
    expect(() => storage.register(createEntityDefinition(OtherPermit))).toThrow(/OtherPermit.*"permits".*Permit/);
    expect(storage.registered().map((definition) => definition.target)).toEqual([Permit]);
  });

  it('rejects a second entity on the route path of another, naming both classes and the path', () => {
    storage.register(createEntityDefinition(Permit));
    expect(() => storage.register(createEntityDefinition(License))).toThrow(/License.*\/permits.*Permit/);
    expect(storage.registered().map((definition) => definition.target)).toEqual([Permit]);
  });

  it('compares paths after trimming their slashes', () => {
    storage.register(createEntityDefinition(Inspection));
    expect(() => storage.register(createEntityDefinition(Audit))).toThrow(/Audit.*\/checks.*Inspection/);
  });

  it('rejects a clash found after the store opened as well', async () => {
    storage.register(createEntityDefinition(Permit));
    await storage.open();
    expect(() => storage.register(createEntityDefinition(OtherPermit))).toThrow(/OtherPermit/);
    expect(() => storage.register(createEntityDefinition(License))).toThrow(/License/);
  });

  it('names a class that was never registered', () => {
    expect(() => storage.definitionOf(Permit)).toThrow(/Permit is not an entity of this store/);
  });
});

@Entity('items')
class ItemV1 {
  @Field() title!: string;
  @Field({ required: false }) @Index({ name: 'lookup' }) a?: string;
  @Field({ required: false }) b?: string;
}

@Entity('items')
class ItemV2 {
  @Field() title!: string;
  @Field({ required: false }) a?: string;
  @Field({ required: false }) @Index({ name: 'lookup' }) b?: string;
}

/** lmdb starts a range without `start` after keys beginning with a zero byte (a null component). */
const LOWEST_KEY = Buffer.from([0]);

describe('EntityStorage index maintenance', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let storage: EntityStorage | undefined;

  beforeAll(() => Logger.overrideLogger(['error', 'warn']));
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(async () => {
    await storage?.close();
    storage = undefined;
    dir.remove();
  });

  async function openWith(target: Function) {
    storage = new EntityStorage(new LmdbEnvironment(dir.path));
    const definition = createEntityDefinition(target as new () => object);
    storage.register(definition);
    await storage.open();
    return { storage, definition, repo: new EntityRepository(definition, storage) };
  }

  const hexKeys = (keys: Iterable<unknown>) => [...keys].map((key) => encodeKey(key as KeyComponent[]).toString('hex')).sort();

  it('rebuilds an index whose definition changed so that it holds only the keys of the records', async () => {
    const v1 = await openWith(ItemV1);
    const withoutA = await v1.repo.create({ title: 'one', b: 'x' });
    const withA = await v1.repo.create({ title: 'two', a: 'y', b: 'z' });
    await storage!.close();

    const v2 = await openWith(ItemV2);
    const { index, db } = storage!.tablesOf(v2.definition).indexes[0]!;
    expect(index.fields).toEqual(['b']);
    const sorted = await v2.repo.find({ sort: 'b' });
    expect(sorted.items.map((record) => record.id)).toEqual([withoutA.id, withA.id]);
    const expected = [withoutA, withA].map((record) => indexKeyOf(index, record as unknown as Record<string, unknown>, record.id));
    expect(hexKeys(db.getKeys({ start: LOWEST_KEY }))).toEqual(hexKeys(expected));
  });

  it('rebuildIndexes removes every entry that no record gives, a null-led one included', async () => {
    const { definition, repo } = await openWith(ItemV1);
    const record = await repo.create({ title: 'one' });
    const { index, db } = storage!.tablesOf(definition).indexes[0]!;
    await storage!.environment.write(() => {
      db.putSync([null, 'ghost-1'] as unknown as IndexKey, null);
      db.putSync(['x', 'ghost-2'], null);
    });
    await storage!.rebuildIndexes(definition);
    expect(hexKeys(db.getKeys({ start: LOWEST_KEY }))).toEqual(hexKeys([indexKeyOf(index, record as unknown as Record<string, unknown>, record.id)]));
  });

  it('verify reports an index entry whose record does not exist, a null-led one included', async () => {
    const { definition, repo } = await openWith(ItemV1);
    await repo.create({ title: 'one' });
    expect(storage!.verify()).toMatchObject({ ok: true, problems: [] });
    const { db } = storage!.tablesOf(definition).indexes[0]!;
    await storage!.environment.write(() => db.putSync([null, 'ghost-1'] as unknown as IndexKey, null));
    const report = storage!.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toContain('ghost-1');
  });
});
