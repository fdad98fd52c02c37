import { jest } from '@jest/globals';
import { Audited, Entity, Field, InvalidQueryException, type AuditEntry } from '../../../../lib/index.js';
import { decodeTime } from 'ulid';
import { makeTempDir } from '../../../support/temp-dir.util.js';
import { ISO, openStore, sleep, type OpenStore } from './store-harness.util.js';

@Entity('aud-permits')
@Audited()
class Permit {
  @Field() status!: string;
  @Field({ required: false }) note?: string;
  @Field({ required: false, hidden: true }) secret?: string;
}

@Entity('aud-inspections')
@Audited()
class Inspection {
  @Field() result!: string;
}

@Entity('aud-plain')
class Plain {
  @Field() text!: string;
}

describe('AuditService', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore;

  beforeEach(async () => {
    dir = makeTempDir();
    store = await openStore(dir.path, [Permit, Inspection, Plain]);
  });

  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  /** Reads every page of a query; fails if a page is empty but says more follow. */
  async function walk(query: Parameters<OpenStore['audit']['find']>[0]): Promise<{ items: AuditEntry[]; pages: number }> {
    const items: AuditEntry[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await store.audit.find({ ...query, ...(cursor !== undefined && { cursor }) });
      pages++;
      items.push(...page.items);
      if (page.nextCursor === null) return { items, pages };
      expect(page.items.length).toBeGreaterThan(0);
      cursor = page.nextCursor;
      if (pages > 100) throw new Error('the cursor walk does not end');
    }
  }

  it('audits writes made through the repository from code, with the actor of the write context', async () => {
    const permits = store.repo(Permit);
    const created = await permits.create({ status: 'draft', secret: 's3cret' }, { actor: 'batch-job' });
    const replaced = await permits.replace(created.id, { status: 'review', note: 'n' }, { actor: 'alice' });
    const updated = await permits.update(created.id, { note: 'm', secret: 'other' }, { actor: 'bob' });
    await permits.delete(created.id, { actor: 'carol' });

    const { items } = await store.audit.find({ entity: 'aud-permits', id: created.id });
    expect(items).toEqual([
      {
        auditId: expect.any(String),
        entity: 'aud-permits',
        id: created.id,
        action: 'create',
        actor: 'batch-job',
        at: created.createdAt,
        version: 1,
        changes: { status: { from: null, to: 'draft' }, secret: { from: null, to: '[hidden]' } },
      },
      {
        auditId: expect.any(String),
        entity: 'aud-permits',
        id: created.id,
        action: 'replace',
        actor: 'alice',
        at: replaced.updatedAt,
        version: 2,
        changes: { status: { from: 'draft', to: 'review' }, note: { from: null, to: 'n' }, secret: { from: '[hidden]', to: null } },
      },
      {
        auditId: expect.any(String),
        entity: 'aud-permits',
        id: created.id,
        action: 'update',
        actor: 'bob',
        at: updated.updatedAt,
        version: 3,
        changes: { note: { from: 'n', to: 'm' }, secret: { from: null, to: '[hidden]' } },
      },
      {
        auditId: expect.any(String),
        entity: 'aud-permits',
        id: created.id,
        action: 'delete',
        actor: 'carol',
        at: expect.stringMatching(ISO),
        version: 3,
        changes: { status: { from: 'review', to: null }, note: { from: 'm', to: null }, secret: { from: '[hidden]', to: null } },
      },
    ]);
    expect(JSON.stringify(items)).not.toMatch(/s3cret|other/);
    expect(await store.audit.forRecord('aud-permits', created.id)).toEqual(items);
  });

  it('uses the id of the event it records as the audit id', async () => {
    const permit = await store.repo(Permit).create({ status: 'a' });
    const [event] = store.storage.events(0, 10);
    expect((await store.audit.forRecord('aud-permits', permit.id))[0]?.auditId).toBe(event?.eventId);
  });

  it('writes no entries for an entity that is not @Audited', async () => {
    const plain = await store.repo(Plain).create({ text: 'x' });
    await store.repo(Plain).update(plain.id, { text: 'y' });
    expect((await store.audit.find({})).items).toEqual([]);
    expect((await store.audit.find({ entity: 'aud-plain', id: plain.id })).items).toEqual([]);
  });

  it('finds the entries of one entity, of one record, and of one actor', async () => {
    const p1 = await store.repo(Permit).create({ status: 'a' }, { actor: 'alice' });
    const i1 = await store.repo(Inspection).create({ result: 'pass' }, { actor: 'bob' });
    const p2 = await store.repo(Permit).create({ status: 'b' }, { actor: 'bob' });
    await store.repo(Permit).update(p1.id, { status: 'c' }, { actor: 'bob' });
    await store.repo(Inspection).update(i1.id, { result: 'fail' }, { actor: 'alice' });

    const summary = (entries: AuditEntry[]) => entries.map(({ entity, id, action, actor }) => `${entity} ${id} ${action} ${actor}`);
    expect(summary((await store.audit.find({ entity: 'aud-permits' })).items)).toEqual([
      `aud-permits ${p1.id} create alice`,
      `aud-permits ${p2.id} create bob`,
      `aud-permits ${p1.id} update bob`,
    ]);
    expect(summary((await store.audit.find({ entity: 'aud-permits', id: p1.id })).items)).toEqual([
      `aud-permits ${p1.id} create alice`,
      `aud-permits ${p1.id} update bob`,
    ]);
    expect(summary((await store.audit.find({ actor: 'bob' })).items)).toEqual([
      `aud-inspections ${i1.id} create bob`,
      `aud-permits ${p2.id} create bob`,
      `aud-permits ${p1.id} update bob`,
    ]);
    expect(summary((await store.audit.find({ entity: 'aud-inspections', actor: 'alice' })).items)).toEqual([`aud-inspections ${i1.id} update alice`]);
    expect((await store.audit.find({ actor: 'nobody' })).items).toEqual([]);
  });

  it('finds the entries of a time range: at or after from, before to', async () => {
    const before = await store.repo(Permit).create({ status: 'before' }, { actor: 'alice' });
    await sleep(15);
    const from = new Date();
    await sleep(15);
    const inside1 = await store.repo(Permit).create({ status: 'inside-1' }, { actor: 'alice' });
    const inside2 = await store.repo(Inspection).create({ result: 'inside-2' }, { actor: 'alice' });
    await sleep(15);
    const to = new Date();
    await sleep(15);
    await store.repo(Permit).update(before.id, { status: 'after' }, { actor: 'alice' });

    const ids = (entries: AuditEntry[]) => entries.map((entry) => `${entry.id} ${entry.action}`);
    expect(ids((await store.audit.find({ from, to })).items)).toEqual([`${inside1.id} create`, `${inside2.id} create`]);
    expect(ids((await store.audit.find({ from: from.toISOString(), to: to.toISOString() })).items)).toEqual([`${inside1.id} create`, `${inside2.id} create`]);
    expect(ids((await store.audit.find({ from, to, actor: 'alice' })).items)).toEqual([`${inside1.id} create`, `${inside2.id} create`]);
    expect(ids((await store.audit.find({ from, to, entity: 'aud-permits' })).items)).toEqual([`${inside1.id} create`]);
    expect(ids((await store.audit.find({ entity: 'aud-permits', id: before.id, from })).items)).toEqual([`${before.id} update`]);
    expect(ids((await store.audit.find({ entity: 'aud-permits', id: before.id, to })).items)).toEqual([`${before.id} create`]);
    expect(ids((await store.audit.find({ to: from })).items)).toEqual([`${before.id} create`]);
  });

  it('pages with limit and nextCursor, visiting every entry exactly once, oldest first', async () => {
    const permits = store.repo(Permit);
    const created = await permits.createMany(
      Array.from({ length: 7 }, (_, i) => ({ status: `s${i}` })),
      { actor: 'alice' },
    );
    for (const record of created.slice(0, 4)) await permits.update(record.id, { status: 'changed' }, { actor: 'bob' });
    await store.repo(Inspection).create({ result: 'noise' }, { actor: 'bob' });

    const everything = (await store.audit.find({ limit: 1000 })).items;
    expect(everything).toHaveLength(12);
    const ids = everything.map((entry) => entry.auditId);
    expect([...ids].sort()).toEqual(ids);

    for (const limit of [1, 2, 3, 5, 11, 12, 13]) {
      const { items, pages } = await walk({ limit });
      expect(items.map((entry) => entry.auditId)).toEqual(ids);
      expect(pages).toBe(Math.max(1, Math.ceil(12 / limit)));
    }
    const byEntity = await walk({ entity: 'aud-permits', limit: 4 });
    expect(byEntity.items.map((entry) => entry.auditId)).toEqual(everything.filter((e) => e.entity === 'aud-permits').map((e) => e.auditId));
    const byActor = await walk({ actor: 'bob', limit: 2 });
    expect(byActor.items.map((entry) => entry.auditId)).toEqual(everything.filter((e) => e.actor === 'bob').map((e) => e.auditId));
    const byRecord = await walk({ entity: 'aud-permits', id: created[0]!.id, limit: 1 });
    expect(byRecord.items.map((entry) => entry.action)).toEqual(['create', 'update']);
  });

  it('orders a change, a refusal and the next change made within one millisecond as they happened', async () => {
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    try {
      const permits = store.repo(Permit);
      for (let round = 0; round < 20; round++) {
        const created = await permits.create({ status: 'draft' }, { actor: 'alice' });
        await store.audit.recordDenied({ entity: 'aud-permits', id: created.id, actor: 'mallory' });
        await permits.update(created.id, { status: 'review' }, { actor: 'bob' });
        const trail = await store.audit.forRecord('aud-permits', created.id);
        expect(trail.map((entry) => [entry.action, decodeTime(entry.auditId)])).toEqual([
          ['create', now],
          ['denied', now],
          ['update', now],
        ]);
      }
    } finally {
      clock.mockRestore();
    }
  });

  it("keeps a record's trail, refused writes among its changes in order, after the log drops the record's events", async () => {
    await store.close();
    store = await openStore(dir.path, [Permit, Inspection, Plain], { eventRetention: { maxEvents: 1 } });
    const permits = store.repo(Permit);
    const created = await permits.create({ status: 'draft' }, { actor: 'alice' });
    await store.audit.recordDenied({ entity: 'aud-permits', id: created.id, actor: 'mallory' });
    await permits.update(created.id, { status: 'review' }, { actor: 'bob' });
    await store.audit.recordDenied({ entity: 'aud-permits', id: created.id, actor: 'mallory' });
    await permits.update(created.id, { status: 'final' }, { actor: 'bob' });
    await store.repo(Inspection).create({ result: 'noise' });
    const actions = ['create', 'denied', 'update', 'denied', 'update'];
    const trail = await store.audit.forRecord('aud-permits', created.id);
    expect(trail.map((entry) => entry.action)).toEqual(actions);

    expect((await store.storage.runMaintenance()).events).toBe(3);
    expect([...store.storage.log.recordEvents('aud-permits', created.id)]).toEqual([]);
    expect(await store.audit.forRecord('aud-permits', created.id)).toEqual(trail);
    for (const limit of [1, 2, 5]) expect((await walk({ entity: 'aud-permits', id: created.id, limit })).items).toEqual(trail);
    // `from` bounds the time an entry's id holds, read from a clock of its own.
    const from = new Date(decodeTime(trail[1]!.auditId));
    const fromSecond = await store.audit.find({ entity: 'aud-permits', id: created.id, from });
    expect(fromSecond.items).toEqual(trail.filter((entry) => decodeTime(entry.auditId) >= from.getTime()));
    expect(fromSecond.items.length).toBeGreaterThanOrEqual(4);
    expect(store.storage.verify().problems).toEqual([]);
  });

  it('rejects a query by id without the entity, a limit out of range, and a cursor that is no entry id', async () => {
    await expect(store.audit.find({ id: 'x' })).rejects.toBeInstanceOf(InvalidQueryException);
    await expect(store.audit.find({ limit: 0 })).rejects.toBeInstanceOf(InvalidQueryException);
    await expect(store.audit.find({ limit: 1001 })).rejects.toBeInstanceOf(InvalidQueryException);
    await expect(store.audit.find({ from: 'not a date' })).rejects.toBeInstanceOf(InvalidQueryException);
    // Neither an empty page nor the whole trail for a cursor no page gave.
    for (const cursor of ['xyz', '0', '', '01ARZ3NDEKTSV4RRFFQ69G5FA']) {
      await expect(store.audit.find({ cursor })).rejects.toThrow('cursor must be the nextCursor of the page before');
    }
    // A loop may start from the null of a last page's nextCursor: the first page.
    expect(await store.audit.find({ cursor: null })).toEqual(await store.audit.find({}));
  });

  it('keeps auditing after the first audited write of the process is rolled back', async () => {
    const failing = store.repo(Permit).transaction((tx) => {
      tx.create(Permit, { status: 'rolled back' });
      throw new Error('boom');
    });
    await expect(failing).rejects.toThrow('boom');
    const permit = await store.repo(Permit).create({ status: 'kept' }, { actor: 'alice' });

    expect((await store.audit.find({})).items.map(({ id, action }) => `${id} ${action}`)).toEqual([`${permit.id} create`]);
    await store.close();
    store = await openStore(dir.path, [Permit, Inspection, Plain]);
    expect((await store.audit.find({})).items.map(({ id, action }) => `${id} ${action}`)).toEqual([`${permit.id} create`]);
  });

  it('keeps auditing after a restart whose first audited write is rolled back', async () => {
    const first = await store.repo(Permit).create({ status: 'first' });
    await store.close();
    store = await openStore(dir.path, [Permit, Inspection, Plain]);

    await expect(store.repo(Permit).transaction((tx) => tx.create(Permit, { status: 'x' }) && tx.update(Permit, 'missing', {}))).rejects.toThrow();
    const second = await store.repo(Permit).create({ status: 'second' });

    expect((await store.audit.find({})).items.map(({ id }) => id)).toEqual([first.id, second.id]);
    await store.close();
    store = await openStore(dir.path, [Permit, Inspection, Plain]);
    expect((await store.audit.find({})).items.map(({ id }) => id)).toEqual([first.id, second.id]);
  });

  it('writes one entry per record of a batch and per change of a transaction', async () => {
    const [a, b] = await store.repo(Permit).createMany([{ status: 'a' }, { status: 'b' }], { actor: 'importer' });
    await store.repo(Permit).transaction(
      (tx) => {
        tx.update(Permit, a!.id, { status: 'a2' });
        tx.create(Inspection, { result: 'ok' });
        tx.delete(Permit, b!.id);
      },
      { actor: 'tx-user' },
    );
    const entries = (await store.audit.find({})).items.map(({ entity, action, actor }) => `${entity} ${action} ${actor}`);
    expect(entries).toEqual([
      'aud-permits create importer',
      'aud-permits create importer',
      'aud-permits update tx-user',
      'aud-inspections create tx-user',
      'aud-permits delete tx-user',
    ]);
  });
});
