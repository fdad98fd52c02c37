import { Audited, Entity, Field, Historize, Index, UniqueConstraintException } from '../../../../lib/index.js';
import { makeTempDir } from '../../../support/temp-dir.util.js';
import { dump, openStore, type OpenStore } from './store-harness.util.js';

@Entity('tx-permits')
@Audited()
@Historize('full')
class Permit {
  @Field() @Index({ unique: true }) number!: string;
  @Field() status!: string;
}

@Entity('tx-inspections')
@Audited()
@Historize('full')
class Inspection {
  @Field() @Index() permit!: string;
  @Field() result!: string;
}

describe('EntityRepository.transaction', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore;

  beforeEach(async () => {
    dir = makeTempDir();
    store = await openStore(dir.path, [Permit, Inspection]);
  });

  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  /** Every database a write touches, so "nothing changed" can be checked at once. */
  function snapshot(): Record<string, unknown> {
    const names = [
      'tx-permits.records',
      'tx-permits.index.number',
      'tx-inspections.records',
      'tx-inspections.index.permit',
      '_log',
      '_log.by-record',
      '_audit',
      '_audit.byRecord',
      '_audit.byActor',
      '_idempotency',
    ];
    return Object.fromEntries(names.map((name) => [name, dump(store, name)]));
  }

  it('stores nothing from a callback that throws: no records, events, audit entries or history', async () => {
    const inspection = await store.repo(Inspection).create({ permit: 'P-0', result: 'pending' }, { actor: 'alice' });
    const before = snapshot();

    const failing = store.repo(Permit).transaction(
      (tx) => {
        tx.create(Permit, { number: 'P-1', status: 'new' });
        tx.update(Inspection, inspection.id, { result: 'pass' });
        throw new Error('boom');
      },
      { actor: 'bob' },
    );

    await expect(failing).rejects.toThrow('boom');
    expect(snapshot()).toEqual(before);
    expect((await store.repo(Permit).find()).items).toEqual([]);
    expect(await store.repo(Inspection).findById(inspection.id)).toEqual(inspection);
    expect(store.storage.events(0, 100)).toHaveLength(1);
    expect((await store.audit.find({})).items).toHaveLength(1);
    expect((await store.repo(Inspection).history(inspection.id))?.fields['result']).toHaveLength(1);
    expect(store.storage.verify().problems).toEqual([]);
  });

  it('rolls back earlier changes of the transaction when a later one breaks a unique index', async () => {
    const existing = await store.repo(Permit).create({ number: 'P-1', status: 'new' });
    const before = snapshot();

    const failing = store.repo(Permit).transaction((tx) => {
      tx.update(Permit, existing.id, { status: 'changed' });
      tx.create(Inspection, { permit: 'P-1', result: 'pass' });
      tx.create(Permit, { number: 'P-1', status: 'duplicate' });
    });

    await expect(failing).rejects.toBeInstanceOf(UniqueConstraintException);
    expect(snapshot()).toEqual(before);
  });

  it('rejects a callback that returns a Promise and stores nothing', async () => {
    const before = snapshot();
    const failing = store.repo(Permit).transaction(async (tx) => {
      tx.create(Permit, { number: 'P-1', status: 'new' });
    });
    await expect(failing).rejects.toThrow(/synchronous/);
    expect(snapshot()).toEqual(before);
  });

  it('writes every change of a successful transaction across two entities, with an event for each', async () => {
    const inspection = await store.repo(Inspection).create({ permit: 'P-0', result: 'pending' });

    const result = await store.repo(Permit).transaction(
      (tx) => {
        const permit = tx.create(Permit, { number: 'P-1', status: 'new' });
        const seen = tx.findById(Permit, permit.id);
        tx.update(Inspection, inspection.id, { permit: permit.number, result: 'pass' });
        const second = tx.create(Inspection, { permit: permit.number, result: 'follow-up' });
        tx.update(Permit, permit.id, { status: 'inspected' });
        return { permit, seen, second };
      },
      { actor: 'bob' },
    );

    expect(result.seen).toEqual(result.permit);
    const permit = await store.repo(Permit).findById(result.permit.id);
    expect(permit).toEqual(expect.objectContaining({ number: 'P-1', status: 'inspected', version: 2 }));
    expect(await store.repo(Inspection).findById(inspection.id)).toEqual(expect.objectContaining({ permit: 'P-1', result: 'pass', version: 2 }));
    expect(await store.repo(Inspection).findById(result.second.id)).toEqual(expect.objectContaining({ result: 'follow-up' }));

    expect(store.storage.events(1, 100).map(({ seq, entity, id, type, version, actor }) => ({ seq, entity, id, type, version, actor }))).toEqual([
      { seq: 2, entity: 'tx-permits', id: result.permit.id, type: 'created', version: 1, actor: 'bob' },
      { seq: 3, entity: 'tx-inspections', id: inspection.id, type: 'updated', version: 2, actor: 'bob' },
      { seq: 4, entity: 'tx-inspections', id: result.second.id, type: 'created', version: 1, actor: 'bob' },
      { seq: 5, entity: 'tx-permits', id: result.permit.id, type: 'updated', version: 2, actor: 'bob' },
    ]);
    expect((await store.audit.find({ actor: 'bob' })).items.map((entry) => `${entry.entity} ${entry.action}`)).toEqual([
      'tx-permits create',
      'tx-inspections update',
      'tx-inspections create',
      'tx-permits update',
    ]);
    expect((await store.repo(Permit).history(result.permit.id))?.fields['status']?.map((entry) => entry.value)).toEqual(['inspected', 'new']);
    expect((await store.repo(Inspection).find({ where: { permit: 'P-1' } })).items).toHaveLength(2);
    expect(store.storage.verify().problems).toEqual([]);
  });

  it('lets a change inside the transaction override the actor of the transaction', async () => {
    await store.repo(Permit).transaction(
      (tx) => {
        tx.create(Permit, { number: 'P-1', status: 'a' });
        tx.create(Permit, { number: 'P-2', status: 'b' }, { actor: 'carol' });
      },
      { actor: 'bob' },
    );
    expect(store.storage.events(0, 10).map((event) => event.actor)).toEqual(['bob', 'carol']);
  });
});
