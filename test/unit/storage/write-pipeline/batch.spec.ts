import { Audited, Entity, Field, Historize, Index, InvalidRecordException, UniqueConstraintException } from '../../../../lib/index.js';
import { makeTempDir } from '../../../support/temp-dir.util.js';
import { openStore, type OpenStore } from './store-harness.util.js';

@Entity('batch-permits')
@Audited()
@Historize('full')
class Permit {
  @Field() @Index({ unique: true }) number!: string;
  @Field() county!: string;
}

describe('EntityRepository.createMany', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore;

  beforeEach(async () => {
    dir = makeTempDir();
    store = await openStore(dir.path, [Permit], { maxBatch: 3 });
  });

  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  async function expectNothingStored(): Promise<void> {
    expect((await store.repo(Permit).find()).items).toEqual([]);
    expect(store.storage.events(0, 100)).toEqual([]);
    expect((await store.audit.find({})).items).toEqual([]);
    expect(store.environment.database('batch-permits.index.number').getKeysCount()).toBe(0);
    // Events, audit entries and history are listed under their records.
    expect(store.environment.database('_log.by-record').getKeysCount()).toBe(0);
  }

  it('creates every record in order, one event each with consecutive seqs', async () => {
    const records = await store.repo(Permit).createMany([
      { number: 'A', county: 'x' },
      { number: 'B', county: 'y' },
      { number: 'C', county: 'z' },
    ]);
    expect(records.map((record) => record.number)).toEqual(['A', 'B', 'C']);
    expect(new Set(records.map((record) => record.id)).size).toBe(3);
    expect(store.storage.events(0, 100).map(({ seq, id, type }) => ({ seq, id, type }))).toEqual(
      records.map((record, i) => ({ seq: i + 1, id: record.id, type: 'created' })),
    );
    expect(store.storage.verify().problems).toEqual([]);
  });

  it('stores none when one element is invalid and names its index', async () => {
    const failure = store.repo(Permit).createMany([{ number: 'A', county: 'x' }, { number: 'B', county: 'y' }, { number: 'C' } as never]);
    await expect(failure).rejects.toBeInstanceOf(InvalidRecordException);
    const error = (await failure.catch((e: unknown) => e)) as InvalidRecordException;
    expect(error.problems).toEqual(['[2] county is required']);
    await expectNothingStored();
  });

  it('stores none when two elements share a unique value', async () => {
    await expect(
      store.repo(Permit).createMany([
        { number: 'A', county: 'x' },
        { number: 'A', county: 'y' },
      ]),
    ).rejects.toBeInstanceOf(UniqueConstraintException);
    await expectNothingStored();
  });

  it('stores none when an element clashes with a stored record', async () => {
    const existing = await store.repo(Permit).create({ number: 'A', county: 'x' });
    await expect(
      store.repo(Permit).createMany([
        { number: 'B', county: 'x' },
        { number: 'A', county: 'y' },
      ]),
    ).rejects.toBeInstanceOf(UniqueConstraintException);
    expect((await store.repo(Permit).find()).items.map((record) => record.id)).toEqual([existing.id]);
    expect(store.storage.events(0, 100)).toHaveLength(1);
  });

  it('rejects more records than the batch limit and stores none', async () => {
    const items = ['A', 'B', 'C', 'D'].map((number) => ({ number, county: 'x' }));
    await expect(store.repo(Permit).createMany(items)).rejects.toThrow(/at most 3/);
    await expectNothingStored();
    await expect(store.repo(Permit).createMany(items.slice(0, 3))).resolves.toHaveLength(3);
  });
});
