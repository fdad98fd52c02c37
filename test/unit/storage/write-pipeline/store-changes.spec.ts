import { jest } from '@jest/globals';
import { Audited, Composite, Entity, Field, Historize, Index } from '../../../../lib/index.js';
import { ChangeApplier } from '../../../../lib/storage/change-applier.service.js';
import type { StoreChange } from '../../../../lib/storage/store-change.interface.js';
import { makeTempDir } from '../../../support/temp-dir.util.js';
import { dump, dumpBinary, openStore, sleep, type OpenStore } from './store-harness.util.js';

@Entity('sc-permits')
@Audited()
@Historize({ versions: 2 })
@Composite(['county', 'status'])
class Permit {
  @Field() @Index({ unique: true }) number!: string;
  @Field() county!: string;
  @Field() status!: string;
  @Field({ required: false }) @Historize('full') note?: string;
  @Field({ required: false, hidden: true }) secret?: string;
}

@Entity('sc-inspections')
class Inspection {
  @Field() @Index() permit!: string;
  @Field() result!: string;
}

@Entity({ name: 'sc-notices', softDelete: true })
@Audited()
@Historize('full')
class Notice {
  @Field() @Index({ unique: true }) code!: string;
  @Field() text!: string;
}

const ENTITIES = [Permit, Inspection, Notice];
/** Short, so the workload can let an idempotency key expire and purge it. */
const IDEMPOTENCY_TTL = 40;

/** Every kind of state change the store makes, none of them in a transaction that rolls back. */
async function workload(store: OpenStore): Promise<void> {
  const permits = store.repo(Permit);
  const [p0, p1, p2] = await permits.createMany(
    [0, 1, 2].map((i) => ({ number: `P-${i}`, county: i % 2 ? 'Kent' : 'Essex', status: 'draft', note: `note ${i}`, secret: `s${i}` })),
    { actor: 'importer' },
  );
  await permits.update(p0!.id, { status: 'review' }, { actor: 'alice' });
  await permits.replace(p1!.id, { number: 'P-1', county: 'Surrey', status: 'issued' }, { actor: 'bob' });
  await permits.delete(p2!.id, { actor: 'carol' });
  await permits.create({ number: 'P-9', county: 'Kent', status: 'draft' }, { actor: 'dave', idempotencyKey: 'k-1' });
  await permits.create({ number: 'P-9', county: 'Kent', status: 'draft' }, { actor: 'dave', idempotencyKey: 'k-1' });
  await expect(permits.create({ number: 'P-0', county: 'x', status: 'y' })).rejects.toThrow();
  await expect(permits.update(p0!.id, { status: 'x' }, { expectedVersion: 1 })).rejects.toThrow();
  await store.repo(Inspection).transaction((tx) => {
    tx.create(Inspection, { permit: 'P-0', result: 'pass' });
    tx.update(Permit, p0!.id, { note: 'inspected' });
  });

  const notices = store.repo(Notice);
  const [n0, n1, n2] = await notices.createMany([0, 1, 2].map((i) => ({ code: `N-${i}`, text: `notice ${i}` })));
  for (const notice of [n0!, n1!]) await notices.delete(notice.id, { actor: 'carol' });
  await notices.restore(n0!.id, { actor: 'alice' });
  await notices.purge(n1!.id, { actor: 'admin' });
  await notices.purge(n2!.id, { actor: 'admin' });
  await notices.delete(n0!.id);

  await store.acl.grant('erin', 'sc-permits', p0!.id, ['read', 'update']);
  await store.acl.grant('group:clerks', 'sc-permits', p1!.id, ['read']);
  await store.acl.revoke('erin', 'sc-permits', p0!.id, ['update']);
  await store.acl.revoke('nobody', 'sc-permits', p0!.id);
  await store.acl.addMember('frank', 'clerks');
  await store.acl.addMember('gina', 'clerks');
  await store.acl.removeMember('gina', 'clerks');
  await store.audit.recordDenied({ entity: 'sc-permits', id: p1!.id, actor: 'mallory', request: { id: 'r-1', ip: '127.0.0.1', route: 'DELETE /x' } });

  await sleep(IDEMPOTENCY_TTL * 2);
  await permits.create({ number: 'P-10', county: 'Kent', status: 'draft' }, { actor: 'dave', idempotencyKey: 'k-2' });
  await store.storage.runMaintenance(Date.now(), { maxEvents: 6 });
}

/** The databases that hold state; `_meta` also holds what is each store's own (writers, cursor key, catalog). */
function stateDatabases(store: OpenStore): string[] {
  return Object.keys(store.environment.stat().databases)
    .filter((name) => name !== '_meta')
    .sort();
}

function changeMarks(store: OpenStore): unknown[] {
  return dump(store, '_meta').filter(({ key }) => Array.isArray(key) && key[0] === 'changes');
}

describe('store changes', () => {
  let dirs: Array<ReturnType<typeof makeTempDir>>;
  let stores: OpenStore[];

  beforeEach(() => {
    dirs = [];
    stores = [];
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    for (const store of stores) await store.close();
    for (const dir of dirs) dir.remove();
  });

  async function open(): Promise<OpenStore> {
    const dir = makeTempDir();
    dirs.push(dir);
    const store = await openStore(dir.path, ENTITIES, { idempotencyTtl: IDEMPOTENCY_TTL });
    stores.push(store);
    return store;
  }

  it('carry every change of state: applied in order to an empty store, they leave it equal byte for byte', async () => {
    const a = await open();
    const b = await open();
    const apply = jest.spyOn(ChangeApplier.prototype, 'apply');
    await workload(a);
    const changes = apply.mock.calls.map(([change]) => structuredClone(change) as StoreChange);
    apply.mockRestore();
    expect(new Set(changes.map((change) => change.kind))).toEqual(new Set(['event', 'remember', 'acl.grant', 'acl.member', 'audit.denied', 'purge']));

    await sleep(IDEMPOTENCY_TTL * 2);
    await b.storage.write((tx) => {
      for (const change of changes) tx.apply(change);
    });

    const names = stateDatabases(a);
    expect(names).toEqual(stateDatabases(b));
    expect(names).toEqual(expect.arrayContaining(['_log', '_idempotency', '_idempotency.expiry', '_acl.grants', '_acl.meta', '_audit', 'sc-permits.records']));
    for (const name of names) expect({ name, bytes: dumpBinary(b, name) }).toEqual({ name, bytes: dumpBinary(a, name) });
    expect(changeMarks(b)).toEqual(changeMarks(a));
    expect(dump(a, '_idempotency')).toHaveLength(1);
    expect(dump(a, '_log')).toHaveLength(6);
    expect(dump(a, '_acl.grants')).toHaveLength(2);
    expect(dump(a, 'sc-notices.deleted').map(({ key }) => key)).toHaveLength(1);
    expect(dump(a, 'sc-notices.records')).toHaveLength(0);
    expect(b.acl.version()).toBe(a.acl.version());
    expect(b.storage.verify().problems).toEqual([]);
  });

  it('are applied by the same applier whatever the transaction holds, so a refused write changes nothing', async () => {
    const a = await open();
    const apply = jest.spyOn(ChangeApplier.prototype, 'apply');
    const created = await a.repo(Permit).create({ number: 'P-1', county: 'Kent', status: 'draft' });
    await expect(a.repo(Permit).update(created.id, { status: 'x' }, { expectedVersion: 7 })).rejects.toThrow();
    await expect(a.repo(Permit).create({ number: 'P-1', county: 'Kent', status: 'draft' })).rejects.toThrow();
    expect(apply.mock.calls.map(([change]) => change.kind)).toEqual(['event']);
  });
});
