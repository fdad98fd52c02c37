import { Composite, Entity, Field, Index } from '../../../../lib/index.js';
import { makeTempDir } from '../../../support/temp-dir.util.js';
import { openStore } from './store-harness.util.js';

@Entity('bf-permits')
class PermitV1 {
  @Field() number!: string;
  @Field() county!: string;
  @Field() status!: string;
}

@Entity('bf-permits')
@Composite(['status', 'number'])
class PermitV2 {
  @Field() number!: string;
  @Field() @Index() county!: string;
  @Field() status!: string;
}

@Entity('bf-permits')
class PermitWithUniqueCounty {
  @Field() number!: string;
  @Field() @Index({ unique: true }) county!: string;
  @Field() status!: string;
}

describe('an index added to an entity that already holds records', () => {
  let dir: ReturnType<typeof makeTempDir>;

  beforeEach(() => {
    dir = makeTempDir();
  });

  afterEach(() => {
    dir.remove();
  });

  async function seed(): Promise<string[]> {
    const v1 = await openStore(dir.path, [PermitV1]);
    try {
      const repo = v1.repo(PermitV1);
      const records = await repo.createMany([
        { number: 'P-1', county: 'Kent', status: 'draft' },
        { number: 'P-2', county: 'Essex', status: 'draft' },
        { number: 'P-3', county: 'Kent', status: 'issued' },
        { number: 'P-4', county: 'Kent', status: 'draft' },
      ]);
      await repo.update(records[3]!.id, { county: 'Surrey' });
      await repo.delete(records[1]!.id);
      expect(repo.explain({ where: { county: 'Kent' } })).toMatch(/^scan/);
      return records.map((record) => record.id);
    } finally {
      await v1.close();
    }
  }

  it('is built from the records at start-up and answers queries over the existing data', async () => {
    const ids = await seed();
    const v2 = await openStore(dir.path, [PermitV2]);
    try {
      const repo = v2.repo(PermitV2);
      expect(repo.explain({ where: { county: 'Kent' } })).toMatch(/^index county\b/);
      expect((await repo.find({ where: { county: 'Kent' } })).items.map((record) => record.id)).toEqual([ids[0], ids[2]]);
      expect((await repo.find({ where: { county: 'Surrey' } })).items.map((record) => record.number)).toEqual(['P-4']);
      expect((await repo.find({ where: { county: 'Essex' } })).items).toEqual([]);

      expect(repo.explain({ where: { status: 'draft' } })).toMatch(/^index status_number\b/);
      expect((await repo.find({ where: { status: 'draft' } })).items.map((record) => record.number)).toEqual(['P-1', 'P-4']);
      expect(v2.storage.verify().problems).toEqual([]);
    } finally {
      await v2.close();
    }
  });

  it('is kept up to date by writes after it was built, and again after a restart', async () => {
    const ids = await seed();
    let v2 = await openStore(dir.path, [PermitV2]);
    try {
      const created = await v2.repo(PermitV2).create({ number: 'P-5', county: 'Kent', status: 'draft' });
      await v2.repo(PermitV2).update(ids[0]!, { county: 'Essex' });
      await v2.close();
      v2 = await openStore(dir.path, [PermitV2]);
      expect((await v2.repo(PermitV2).find({ where: { county: 'Kent' } })).items.map((record) => record.id)).toEqual([ids[2], created.id]);
      expect(v2.storage.verify().problems).toEqual([]);
    } finally {
      await v2.close();
    }
  });

  it('drops out of use when the entity goes back to a version without it, and is rebuilt when it returns', async () => {
    await seed();
    let store = await openStore(dir.path, [PermitV2]);
    await store.close();
    store = await openStore(dir.path, [PermitV1]);
    const late = await store.repo(PermitV1).create({ number: 'P-6', county: 'Kent', status: 'draft' });
    await store.close();
    store = await openStore(dir.path, [PermitV2]);
    try {
      expect((await store.repo(PermitV2).find({ where: { county: 'Kent' } })).items.map((record) => record.number)).toContain('P-6');
      expect((await store.repo(PermitV2).find({ where: { county: 'Kent' } })).items.map((record) => record.id)).toContain(late.id);
      expect(store.storage.verify().problems).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('fails start-up when a new unique index finds duplicates in the data, naming the class, index and records', async () => {
    const ids = await seed();
    await expect(openStore(dir.path, [PermitWithUniqueCounty])).rejects.toThrow(
      new RegExp(`PermitWithUniqueCounty.*county.*(${ids[0]}.*${ids[2]}|${ids[2]}.*${ids[0]})`),
    );
  });
});
