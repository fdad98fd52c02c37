import { Audited, Entity, Field, getRepositoryToken, Index, type EntityRepository } from '../../../../lib/index.js';
import { EntityStorage } from '../../../../lib/storage/entity-storage.store.js';
import { makeTempDir } from '../../../support/temp-dir.util.js';
import { createTestApp } from '../../../support/test-app.util.js';
import { ISO, openStore, ULID, type OpenStore } from './store-harness.util.js';

@Entity('log-permits')
@Audited()
class Permit {
  @Field() @Index({ unique: true }) number!: string;
  @Field({ required: false }) note?: string;
}

@Entity('log-notes')
class Note {
  @Field() text!: string;
}

const EVENT_KEYS = new Set(['seq', 'eventId', 'entity', 'id', 'type', 'version', 'data', 'actor', 'at', 'idempotencyKey', 'request']);

describe('the event log', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore;

  beforeEach(async () => {
    dir = makeTempDir();
    store = await openStore(dir.path, [Permit, Note]);
  });

  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  it('appends one event per change, with a gap-free seq from 1 and every field of the change', async () => {
    const permits = store.repo(Permit);
    const created = await permits.create({ number: 'P-1', note: 'a' }, { actor: 'alice', idempotencyKey: 'key-1' });
    const updated = await permits.update(created.id, { note: 'b' }, { actor: 'bob' });
    const replaced = await permits.replace(created.id, { number: 'P-1b' });
    await permits.delete(created.id, { actor: 'carol' });

    const events = store.storage.events(0, 100);
    expect(events).toEqual([
      {
        seq: 1,
        eventId: expect.stringMatching(ULID),
        entity: 'log-permits',
        id: created.id,
        type: 'created',
        version: 1,
        data: { number: 'P-1', note: 'a' },
        actor: 'alice',
        at: created.createdAt,
        idempotencyKey: 'key-1',
      },
      {
        seq: 2,
        eventId: expect.stringMatching(ULID),
        entity: 'log-permits',
        id: created.id,
        type: 'updated',
        version: 2,
        data: { note: 'b' },
        actor: 'bob',
        at: updated.updatedAt,
      },
      {
        seq: 3,
        eventId: expect.stringMatching(ULID),
        entity: 'log-permits',
        id: created.id,
        type: 'replaced',
        version: 3,
        data: { number: 'P-1b' },
        at: replaced.updatedAt,
      },
      {
        seq: 4,
        eventId: expect.stringMatching(ULID),
        entity: 'log-permits',
        id: created.id,
        type: 'deleted',
        version: 3,
        actor: 'carol',
        at: expect.stringMatching(ISO),
      },
    ]);
    for (const event of events) for (const key of Object.keys(event)) expect(EVENT_KEYS).toContain(key);
    const eventIds = events.map((event) => event.eventId);
    expect(new Set(eventIds).size).toBe(4);
    expect([...eventIds].sort()).toEqual(eventIds);
  });

  it('records a cleared field as null in the event of an update', async () => {
    const permit = await store.repo(Permit).create({ number: 'P-1', note: 'a' });
    await store.repo(Permit).update(permit.id, { note: null } as never);
    expect(store.storage.events(1, 10)[0]?.data).toEqual({ note: null });
  });

  it('appends nothing for an update that changes nothing', async () => {
    const permit = await store.repo(Permit).create({ number: 'P-1', note: 'a' });
    const same = await store.repo(Permit).update(permit.id, { note: 'a' });
    expect(same).toEqual(permit);
    expect(store.storage.events(0, 10)).toHaveLength(1);
  });

  it('uses no seq for a write that fails', async () => {
    await store.repo(Permit).create({ number: 'P-1' });
    await expect(store.repo(Permit).create({ number: 'P-1' })).rejects.toThrow();
    await expect(store.repo(Permit).create({} as never)).rejects.toThrow();
    await store.repo(Note).create({ text: 'x' });
    expect(store.storage.events(0, 10).map((event) => event.seq)).toEqual([1, 2]);
  });

  it('keeps the seq gap-free under concurrent writes', async () => {
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 ? store.repo(Permit).create({ number: `P-${i}` }) : store.repo(Note).create({ text: `${i}` }))),
    );
    expect(store.storage.events(0, 100).map((event) => event.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(store.storage.verify().problems).toEqual([]);
  });

  it('reads the log after a seq, a page at a time', async () => {
    for (let i = 0; i < 5; i++) await store.repo(Note).create({ text: `${i}` });
    expect(store.storage.events(2, 2).map((event) => event.seq)).toEqual([3, 4]);
    expect(store.storage.events(4, 100).map((event) => event.seq)).toEqual([5]);
    expect(store.storage.events(5, 100)).toEqual([]);
  });

  it("answers EntityRepository.events with that entity's events only, after a seq and up to a limit", async () => {
    const p1 = await store.repo(Permit).create({ number: 'P-1' });
    await store.repo(Note).create({ text: 'x' });
    const p2 = await store.repo(Permit).create({ number: 'P-2' });
    await store.repo(Note).create({ text: 'y' });
    await store.repo(Permit).update(p1.id, { note: 'n' });

    const summary = (events: Array<{ seq: number; id: string; type: string }>) => events.map(({ seq, id, type }) => `${seq} ${id} ${type}`);
    expect(summary(await store.repo(Permit).events())).toEqual([`1 ${p1.id} created`, `3 ${p2.id} created`, `5 ${p1.id} updated`]);
    expect(summary(await store.repo(Permit).events({ afterSeq: 1 }))).toEqual([`3 ${p2.id} created`, `5 ${p1.id} updated`]);
    expect(summary(await store.repo(Permit).events({ afterSeq: 0, limit: 2 }))).toEqual([`1 ${p1.id} created`, `3 ${p2.id} created`]);
    expect((await store.repo(Note).events()).map((event) => event.entity)).toEqual(['log-notes', 'log-notes']);
  });

  it('refuses a seq or a limit that is not a whole number in range, rather than read the wrong range or the whole log', async () => {
    await store.repo(Permit).create({ number: 'P-1' });
    for (const options of [{ limit: -1 }, { limit: 0 }, { limit: 1.5 }, { limit: Number.NaN }, { afterSeq: -1 }, { afterSeq: 0.5 }, { afterSeq: Number.NaN }]) {
      await expect(store.repo(Permit).events(options)).rejects.toThrow(RangeError);
    }
    expect(() => store.storage.events(0, Number.POSITIVE_INFINITY)).toThrow('limit must be a whole number from 1, not Infinity');
    expect(() => store.storage.events(-2, 10)).toThrow('afterSeq must be a whole number from 0, not -2');
  });

  it("finds an entity's events past the first 1000 events of the log", async () => {
    await store.repo(Note).createMany(Array.from({ length: 1000 }, (_, i) => ({ text: `${i}` })));
    const permit = await store.repo(Permit).create({ number: 'P-1' });
    const events = await store.repo(Permit).events();
    expect(events.map(({ seq, id }) => ({ seq, id }))).toEqual([{ seq: 1001, id: permit.id }]);
  });
});

describe('event retention', () => {
  it('keeps the newest maxEvents events in runMaintenance, and the next write continues the seq', async () => {
    const t = await createTestApp({ entities: [Permit, Note], module: { eventRetention: { maxEvents: 3 } } });
    try {
      const storage = t.app.get(EntityStorage);
      const notes = t.app.get<string, EntityRepository<Note>>(getRepositoryToken(Note));
      for (let i = 0; i < 6; i++) await notes.create({ text: `${i}` });

      expect(await storage.runMaintenance()).toEqual({ idempotencyKeys: 0, events: 3 });
      expect(storage.events(0, 100).map((event) => event.seq)).toEqual([4, 5, 6]);
      expect(storage.verify().problems).toEqual([]);

      const next = await notes.create({ text: 'next' });
      expect(storage.events(0, 100).map((event) => [event.seq, event.id])).toEqual([
        [4, expect.any(String)],
        [5, expect.any(String)],
        [6, expect.any(String)],
        [7, next.id],
      ]);
      expect(await storage.runMaintenance()).toEqual({ idempotencyKeys: 0, events: 1 });
      expect(storage.events(0, 100).map((event) => event.seq)).toEqual([5, 6, 7]);
      expect(await notes.find()).toEqual(expect.objectContaining({ items: expect.arrayContaining([expect.anything()]) }));
      expect((await notes.find()).items).toHaveLength(7);
    } finally {
      await t.close();
    }
  });

  it('continues the seq after a restart that follows a compaction', async () => {
    const dir = makeTempDir();
    try {
      let store = await openStore(dir.path, [Note], { eventRetention: { maxEvents: 2 } });
      for (let i = 0; i < 5; i++) await store.repo(Note).create({ text: `${i}` });
      await store.storage.runMaintenance();
      await store.close();
      store = await openStore(dir.path, [Note], { eventRetention: { maxEvents: 2 } });
      try {
        await store.repo(Note).create({ text: 'after restart' });
        expect(store.storage.events(0, 100).map((event) => event.seq)).toEqual([4, 5, 6]);
      } finally {
        await store.close();
      }
    } finally {
      dir.remove();
    }
  });
});
