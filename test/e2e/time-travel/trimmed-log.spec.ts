import { EntitiesMaintenance, Entity, EntityRepository, Field, getRepositoryToken, Permission, type EntityChange } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { http } from '../support/e2e.util.js';

/** Past states once `eventRetention` dropped a record's creation: what the store still knows answers, 404 where the record did not exist. */
@Entity({ name: 'trim-permits', softDelete: true })
class Permit {
  @Field() status!: string;
}

@Entity({ name: 'trim-notes', softDelete: true })
@Permission({ read: 'notes:read', create: null, update: null, delete: null, owner: 'author' })
class Note {
  @Field() text!: string;
  @Field({ required: false }) author?: string;
}

const ALICE = { id: 'alice', permissions: [] as string[] };
const tick = () => new Promise((resolve) => setTimeout(resolve, 3));

describe.each(PLATFORMS)('past reads once the log is trimmed, on %s', (platform) => {
  let t: TestApp;
  let permits: EntityRepository<Permit>;
  beforeAll(async () => {
    t = await createTestApp({ entities: [Permit, Note], platform, module: { eventRetention: { maxEvents: 2 } } });
    permits = t.app.get(getRepositoryToken(Permit));
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A permit at version 4 whose creation and first updates the log no longer holds; `before` is a time before its creation. */
  async function trimmedPermit(): Promise<{ id: string; before: string }> {
    const before = new Date().toISOString();
    await tick();
    const { id } = await permits.create({ status: 's1' });
    for (const status of ['s2', 's3', 's4']) {
      await tick();
      await permits.update(id, { status });
    }
    await t.app.get(EntitiesMaintenance).runMaintenance();
    return { id, before };
  }

  it('answers the version a soft-deleted record was deleted at, and its state until the delete', async () => {
    const { id } = await trimmedPermit();
    const live = await http(t).get(`/trim-permits/${id}?version=4`);
    expect(live.status).toBe(200);
    expect((await http(t).get(`/trim-permits/${id}?version=2`)).status).toBe(410);
    const beforeDelete = new Date().toISOString();
    await tick();
    expect((await http(t).delete(`/trim-permits/${id}`)).status).toBe(204);
    const deleted = await http(t).get(`/trim-permits/${id}?version=4`);
    expect({ status: deleted.status, body: deleted.body }).toEqual({ status: 200, body: live.body });
    expect((await http(t).get(`/trim-permits/${id}?asOf=${encodeURIComponent(beforeDelete)}`)).body).toEqual(live.body);
    expect((await http(t).get(`/trim-permits/${id}?version=2`)).status).toBe(410);
  });

  it('answers 404, not 410, for a time before the record existed', async () => {
    const { id, before } = await trimmedPermit();
    expect((await http(t).get(`/trim-permits/${id}?asOf=${encodeURIComponent(before)}`)).status).toBe(404);
  });

  it('answers 404, not 410, for a time after a delete, soft or final', async () => {
    const { id } = await trimmedPermit();
    expect((await http(t).delete(`/trim-permits/${id}`)).status).toBe(204);
    await tick();
    expect((await http(t).get(`/trim-permits/${id}?asOf=${encodeURIComponent(new Date().toISOString())}`)).status).toBe(404);
    expect((await http(t).delete(`/trim-permits/${id}?purge=true`)).status).toBe(204);
    await tick();
    expect(await permits.findAt(id, { asOf: new Date() })).toBeNull();
  });
});

describe("an owner's change feed once the log is trimmed", () => {
  let t: TestApp;
  let notes: EntityRepository<Note>;
  beforeAll(async () => {
    t = await createTestApp({ entities: [Note], module: { eventRetention: { maxEvents: 1 } } });
    notes = t.app.get(getRepositoryToken(Note));
  });
  afterAll(async () => {
    await t?.close();
  });

  async function collect(
    feed: AsyncIterableIterator<EntityChange<{ text?: string }>>,
    abort: AbortController,
    until: (seen: unknown[]) => boolean,
  ): Promise<Array<EntityChange<{ text?: string }>>> {
    const seen: Array<EntityChange<{ text?: string }>> = [];
    const timer = setTimeout(() => abort.abort(), 5000);
    try {
      for await (const change of feed) {
        seen.push(change);
        if (until(seen)) break;
      }
    } finally {
      clearTimeout(timer);
    }
    return seen;
  }

  it('delivers changes to its records whose past states were dropped, without the record', async () => {
    const mine = await notes.create({ text: 'mine' }, { principal: ALICE });
    await notes.update(mine.id, { text: 'mine, changed' }, { principal: ALICE });
    const afterSeq = (await notes.events({ limit: 1000 })).at(-1)!.seq - 2;
    await notes.create({ text: 'other' });
    await t.app.get(EntitiesMaintenance).runMaintenance();
    await notes.update(mine.id, { text: 'mine, again' }, { principal: ALICE });
    await notes.update(mine.id, { text: 'mine, last' }, { principal: ALICE });
    // Kept, not deleted: an owner gets the past versions of its records that still exist, the ones the store can tell.
    await notes.update(mine.id, { text: 'mine, final' }, { principal: ALICE });
    const abort = new AbortController();
    const changes = await collect(notes.subscribe({ principal: ALICE, signal: abort.signal, afterSeq: afterSeq + 2 }), abort, (seen) => seen.length === 3);
    expect(changes.map(({ id, type, version, record }) => ({ id, type, version, record: record?.text }))).toEqual([
      // Versions 3 and 4 are neither in the log whole nor kept by the store: the record as it is decides, and none is sent.
      { id: mine.id, type: 'updated', version: 3, record: undefined },
      { id: mine.id, type: 'updated', version: 4, record: undefined },
      { id: mine.id, type: 'updated', version: 5, record: 'mine, final' },
    ]);
  });
});
