import { Entity, Field } from '../../../../lib/index.js';
import { makeTempDir } from '../../../support/temp-dir.util.js';
import { dump, openStore, type OpenStore } from './store-harness.util.js';

@Entity('df-parcels')
class ParcelV1 {
  @Field() code!: string;
  @Field({ required: false }) legacyRef?: string;
  @Field({ required: false }) area?: number;
}

/** A later version of the class, without `legacyRef` and `area`. */
@Entity('df-parcels')
class ParcelV2 {
  @Field() code!: string;
}

describe('WriteTransaction.dropUndeclaredFields', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore | undefined;

  beforeEach(() => (dir = makeTempDir()));
  afterEach(async () => {
    await store?.close();
    store = undefined;
    dir.remove();
  });

  /** A parcel stored by version 1 with `fields`, the store then reopened as version 2. */
  async function storedByVersion1(fields: Partial<ParcelV1>): Promise<string> {
    store = await openStore(dir.path, [ParcelV1]);
    const { id } = await store.repo(ParcelV1).create({ code: 'P-1', ...fields });
    await store.close();
    store = await openStore(dir.path, [ParcelV2]);
    return id;
  }

  it('clears them with one updated event that a replay into an empty store applies to the same record', async () => {
    const id = await storedByVersion1({ legacyRef: 'L-1', area: 12 });
    const definition = store!.storage.definitionOf(ParcelV2);

    const dropped = await store!.storage.write((tx) => tx.dropUndeclaredFields(definition, id, { actor: 'ops' }));

    expect(dropped).toEqual(['legacyRef', 'area']);
    const record = store!.storage.tablesOf(definition).records.get(id)!;
    expect(record).toEqual({ id, code: 'P-1', version: 2, createdAt: record.createdAt, updatedAt: record.updatedAt });
    const events = store!.storage.events();
    expect(events.at(-1)).toMatchObject({ type: 'updated', id, version: 2, data: { legacyRef: null, area: null }, actor: 'ops' });
    expect(store!.storage.verify().problems).toEqual([]);

    const replica = makeTempDir();
    const copy = await openStore(replica.path, [ParcelV2]);
    try {
      await copy.storage.replay(events);
      expect(dump(copy, 'df-parcels.records')).toEqual(dump(store!, 'df-parcels.records'));
    } finally {
      await copy.close();
      replica.remove();
    }
  });

  it('leaves a record that holds only declared fields as it is, with no event', async () => {
    const id = await storedByVersion1({});
    const definition = store!.storage.definitionOf(ParcelV2);
    const lastSeq = store!.storage.log.lastSeq();

    const dropped = await store!.storage.write((tx) => tx.dropUndeclaredFields(definition, id));

    expect(dropped).toEqual([]);
    expect(store!.storage.log.lastSeq()).toBe(lastSeq);
    expect(store!.storage.tablesOf(definition).records.get(id)!.version).toBe(1);
  });
});
