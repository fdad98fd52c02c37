import { Entity, EntityRepository, Field, getRepositoryToken, InvalidRecordException } from '../../../lib/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('batch-items')
class Item {
  @Field() name!: string;
}

/**
 * createMany checks and creates with Array#map, which skips holes: a sparse array creates
 * fewer records than it has elements, all or none does not hold, and the result has holes.
 */
describe('createMany with a hole in the array', () => {
  let t: TestApp;
  let items: EntityRepository<Item>;
  beforeAll(async () => {
    t = await createTestApp({ entities: [Item] });
    items = t.app.get(getRepositoryToken(Item));
  });
  afterAll(async () => t?.close());

  it('refuses the batch, naming the element, and creates nothing', async () => {
    // eslint-disable-next-line no-sparse-arrays
    const batch = [, { name: 'second' }] as unknown as { name: string }[];
    await expect(items.createMany(batch)).rejects.toThrow(InvalidRecordException);
    await expect(items.createMany(batch)).rejects.toThrow(/\[0\]/);
    expect((await items.find({})).items).toEqual([]);
  });
});
