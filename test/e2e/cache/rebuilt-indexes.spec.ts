import { Cached, EntitiesMaintenance, Entity, EntityRepository, Field, getRepositoryToken, Index } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';
import { http } from '../support/e2e.util.js';

/** README: `rebuildIndexes` repairs indexes while the app runs; a list cached from the damaged index is not served after. */
@Entity('reindexed-tags')
@Cached()
class Tagged {
  @Field() @Index() tag!: string;
}

describe('cached lists after rebuildIndexes', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ entities: [Tagged] })));
  afterAll(() => t.close());

  it('answers from the rebuilt index, not from the cache filled before', async () => {
    const record = (await http(t).post('/reindexed-tags').send({ tag: 'red' }).expect(201)).body;
    // An index entry lost (e.g. written by a process whose declaration lacked the index): verify reports it.
    const storage = t.app.get(EntityStorage);
    const mark = storage.changeMark(storage.definitionOf(Tagged));
    const { db } = storage.tablesOf(storage.definitionOf(Tagged)).indexes.find(({ index }) => index.name === 'tag')!;
    await storage.environment.write(() => db.removeSync(['red', record.id]));
    expect((await http(t).get('/reindexed-tags?tag=red').expect(200)).body.items).toEqual([]);

    await t.app.get(EntitiesMaintenance).rebuildIndexes(Tagged);
    const repo = t.app.get<string, EntityRepository<Tagged>>(getRepositoryToken(Tagged));
    expect((await repo.find({ where: { tag: 'red' } })).items.map((r) => r.id)).toEqual([record.id]);
    expect((await http(t).get('/reindexed-tags?tag=red').expect(200)).body.items.map((r: { id: string }) => r.id)).toEqual([record.id]);
    // No record changed: the change mark, which replicated instances hold alike, stays.
    expect(storage.changeMark(storage.definitionOf(Tagged))).toEqual(mark);
  });
});
