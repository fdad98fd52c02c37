import { createCache } from 'cache-manager';
import Keyv from 'keyv';
import {
  AclService,
  Cached,
  Entity,
  EntityCache,
  EntityRepository,
  Field,
  getRepositoryToken,
  Historize,
  Index,
  Permission,
  type EntityCacheMetrics,
  type Principal,
} from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { asPrincipal, http, principalFromHeader, unique } from '../support/e2e.util.js';

@Entity('cached-notes')
@Cached()
@Historize('full')
class CachedNote {
  @Field() text!: string;
  @Field() @Index() tag!: string;
}

@Entity('plain-notes')
class PlainNote {
  @Field() text!: string;
}

@Entity('flash-notes')
@Cached({ ttl: 50 })
class FlashNote {
  @Field() text!: string;
}

/** Every action open; only `amount` needs a permission to be read. */
@Entity('salaries')
@Cached()
@Historize('full')
class Salary {
  @Field() name!: string;
  @Field() @Index() team!: string;
  @Field({ required: false })
  @Permission({ read: 'x:secret' })
  amount?: number;
}

/** Creating is open; reading needs `diaries:read` or owning the diary. */
@Entity('diaries')
@Cached()
@Permission({ read: 'diaries:read', create: null, owner: 'ownerId' })
class Diary {
  @Field() text!: string;
  @Field() @Index() shelf!: string;
  @Field({ required: false }) ownerId?: string;
}

/** Reading needs `vaults:read` or a grant on the record. */
@Entity('vaults')
@Cached()
@Permission({ read: 'vaults:read' })
class Vault {
  @Field() label!: string;
  @Field() @Index() shelf!: string;
}

const HOLDER: Principal = { id: 'holder', permissions: ['x:secret'] };
const NON_HOLDER: Principal = { id: 'non-holder' };
const NO_METRICS: EntityCacheMetrics = { hits: 0, misses: 0, invalidations: 0 };

function metricsOf(t: TestApp, entity: string): EntityCacheMetrics {
  return t.app.get(EntityCache).metrics()[entity] ?? NO_METRICS;
}

/** What happened to an entity's cache counters since `before`. */
function metricsSince(t: TestApp, entity: string, before: EntityCacheMetrics): EntityCacheMetrics {
  const now = metricsOf(t, entity);
  return { hits: now.hits - before.hits, misses: now.misses - before.misses, invalidations: now.invalidations - before.invalidations };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A Keyv storage adapter (Map-like) whose every operation throws, as a cache server that
 * is down does; counts the calls so a test can tell the cache was asked.
 */
function brokenStore() {
  const calls = { get: 0, set: 0 };
  const fail = (operation: string) => {
    throw new Error(`cache store unreachable (${operation})`);
  };
  const store = {
    get: () => {
      calls.get++;
      return fail('get');
    },
    set: () => {
      calls.set++;
      return fail('set');
    },
    delete: () => fail('delete'),
    clear: () => fail('clear'),
    has: () => fail('has'),
  };
  return { store, calls };
}

describe.each(PLATFORMS)('cached reads on %s', (platform) => {
  let t: TestApp;
  let notes: EntityRepository<CachedNote>;

  beforeAll(async () => {
    t = await createTestApp({
      entities: [CachedNote, PlainNote, FlashNote, Salary, Diary, Vault],
      platform,
      module: { getPrincipal: principalFromHeader },
    });
    notes = t.app.get(getRepositoryToken(CachedNote));
  });

  afterAll(async () => {
    await t?.close();
  });

  describe('hits and freshness', () => {
    it('answers the second GET /P/:id from the cache, with the same record and ETag', async () => {
      const note = await notes.create({ text: 'once', tag: unique('tag') });
      const before = metricsOf(t, 'cached-notes');

      const first = await http(t).get(`/cached-notes/${note.id}`).expect(200);
      const second = await http(t).get(`/cached-notes/${note.id}`).expect(200);

      expect(second.body).toEqual(first.body);
      expect(second.headers['etag']).toBe('"1"');
      expect(metricsSince(t, 'cached-notes', before)).toEqual({ hits: 1, misses: 1, invalidations: 0 });
    });

    it('answers the second GET /P and GET /P/:id/history with the same query from the cache', async () => {
      const tag = unique('tag');
      const note = await notes.create({ text: 'listed', tag });
      const before = metricsOf(t, 'cached-notes');

      const lists = [await http(t).get(`/cached-notes?tag=${tag}`).expect(200), await http(t).get(`/cached-notes?tag=${tag}`).expect(200)];
      const histories = [await http(t).get(`/cached-notes/${note.id}/history`).expect(200), await http(t).get(`/cached-notes/${note.id}/history`).expect(200)];

      expect(lists[1]!.body).toEqual(lists[0]!.body);
      expect(lists[0]!.body.items.map((item: CachedNote & { id: string }) => item.id)).toEqual([note.id]);
      expect(histories[1]!.body).toEqual(histories[0]!.body);
      // Invalidations are counted when a read first sees the counter moved: here, by the create above.
      expect(metricsSince(t, 'cached-notes', before)).toEqual(expect.objectContaining({ hits: 2, misses: 2 }));
    });

    it('returns the new state from GET /P/:id right after a PATCH, and counts the invalidation', async () => {
      const note = await notes.create({ text: 'old', tag: unique('tag') });
      await http(t).get(`/cached-notes/${note.id}`).expect(200);
      await http(t).get(`/cached-notes/${note.id}`).expect(200);
      const before = metricsOf(t, 'cached-notes');

      await http(t).patch(`/cached-notes/${note.id}`).send({ text: 'new' }).expect(200);
      const after = await http(t).get(`/cached-notes/${note.id}`).expect(200);

      expect(after.body).toEqual(expect.objectContaining({ id: note.id, text: 'new', version: 2 }));
      expect(after.headers['etag']).toBe('"2"');
      expect(metricsSince(t, 'cached-notes', before)).toEqual(expect.objectContaining({ hits: 0, misses: 1 }));
      expect(metricsSince(t, 'cached-notes', before).invalidations).toBeGreaterThanOrEqual(1);
    });

    it('returns the new state from GET /P/:id right after a PUT', async () => {
      const tag = unique('tag');
      const note = await notes.create({ text: 'old', tag });
      await http(t).get(`/cached-notes/${note.id}`).expect(200);

      await http(t).put(`/cached-notes/${note.id}`).send({ text: 'replaced', tag }).expect(200);
      const after = await http(t).get(`/cached-notes/${note.id}`).expect(200);

      expect(after.body).toEqual(expect.objectContaining({ text: 'replaced', version: 2 }));
    });

    it('returns the new state from GET /P right after a PATCH, a POST and a DELETE', async () => {
      const tag = unique('tag');
      const first = await notes.create({ text: 'first', tag });
      const second = await notes.create({ text: 'second', tag });
      const list = async () => (await http(t).get(`/cached-notes?tag=${tag}`).expect(200)).body.items as Array<{ id: string; text: string }>;
      await list();
      await list();

      await http(t).patch(`/cached-notes/${first.id}`).send({ text: 'first, edited' }).expect(200);
      expect((await list()).map(({ text }) => text)).toEqual(['first, edited', 'second']);

      const third = await http(t).post('/cached-notes').send({ text: 'third', tag }).expect(201);
      expect((await list()).map(({ id }) => id)).toEqual([first.id, second.id, third.body.id]);

      await http(t).delete(`/cached-notes/${second.id}`).expect(204);
      expect((await list()).map(({ id }) => id)).toEqual([first.id, third.body.id]);
    });

    it('caches each page of GET /P/:id/history apart, however its query is spelled', async () => {
      const note = await notes.create({ text: 'v1', tag: unique('tag') });
      for (const text of ['v2', 'v3', 'v4']) await notes.update(note.id, { text });
      const texts = async (query: string) =>
        (await http(t).get(`/cached-notes/${note.id}/history?${query}`).expect(200)).body.fields.text.map((entry: { value: string }) => entry.value);
      const before = metricsOf(t, 'cached-notes');

      expect(await texts('limit=2')).toEqual(['v4', 'v3']);
      expect(await texts('limit=2&before=3')).toEqual(['v2', 'v1']);
      expect(await texts('field=text&limit=1')).toEqual(['v4']);
      expect(await texts('before=3&limit=2')).toEqual(['v2', 'v1']);
      expect(await texts('&limit=2&&before=3')).toEqual(['v2', 'v1']);
      expect(await texts('')).toEqual(['v4', 'v3', 'v2', 'v1']);
      // Three pages, the whole history, and the second page asked for twice more in other spellings.
      expect(metricsSince(t, 'cached-notes', before)).toEqual(expect.objectContaining({ hits: 2, misses: 4 }));
    });

    it('returns the new history from GET /P/:id/history right after a PATCH', async () => {
      const note = await notes.create({ text: 'v1', tag: unique('tag') });
      const before = await http(t).get(`/cached-notes/${note.id}/history`).expect(200);
      expect(before.body.fields.text.map((entry: { value: string }) => entry.value)).toEqual(['v1']);

      await http(t).patch(`/cached-notes/${note.id}`).set('If-Match', '"1"').send({ text: 'v2' }).expect(200);
      const after = await http(t).get(`/cached-notes/${note.id}/history`).expect(200);

      expect(after.body.fields.text.map((entry: { value: string; version: number }) => [entry.value, entry.version])).toEqual([
        ['v2', 2],
        ['v1', 1],
      ]);
    });

    it('answers 404 to GET /P/:id at once after a DELETE of a record that was cached', async () => {
      const note = await notes.create({ text: 'doomed', tag: unique('tag') });
      await http(t).get(`/cached-notes/${note.id}`).expect(200);
      await http(t).get(`/cached-notes/${note.id}`).expect(200);

      await http(t).delete(`/cached-notes/${note.id}`).expect(204);

      const gone = await http(t).get(`/cached-notes/${note.id}`);
      expect(gone.status).toBe(404);
      expect(gone.body).toEqual(expect.objectContaining({ statusCode: 404 }));
    });

    it('sees a write made through the repository on the next cached read', async () => {
      const note = await notes.create({ text: 'by code', tag: unique('tag') });
      await http(t).get(`/cached-notes/${note.id}`).expect(200);

      await notes.update(note.id, { text: 'by code, again' });

      expect((await http(t).get(`/cached-notes/${note.id}`).expect(200)).body.text).toBe('by code, again');
    });
  });

  describe('which entities are cached', () => {
    it('does not cache an entity without @Cached: no metrics, and every read is its own', async () => {
      const created = await http(t).post('/plain-notes').send({ text: 'plain' }).expect(201);
      await http(t).get(`/plain-notes/${created.body.id}`).expect(200);
      await http(t).get(`/plain-notes/${created.body.id}`).expect(200);
      await http(t).get('/plain-notes').expect(200);

      expect(t.app.get(EntityCache).metrics()['plain-notes']).toBeUndefined();
    });
  });

  describe('time to live', () => {
    it('misses again once the @Cached ttl has passed, with no write in between', async () => {
      const created = await http(t).post('/flash-notes').send({ text: 'brief' }).expect(201);
      const before = metricsOf(t, 'flash-notes');

      await http(t).get(`/flash-notes/${created.body.id}`).expect(200);
      await http(t).get(`/flash-notes/${created.body.id}`).expect(200);
      expect(metricsSince(t, 'flash-notes', before)).toEqual({ hits: 1, misses: 1, invalidations: 0 });

      await sleep(150);
      const expired = await http(t).get(`/flash-notes/${created.body.id}`).expect(200);

      expect(expired.body.text).toBe('brief');
      expect(metricsSince(t, 'flash-notes', before)).toEqual({ hits: 1, misses: 2, invalidations: 0 });
    });
  });

  describe('views per principal', () => {
    let salaries: EntityRepository<Salary>;

    beforeAll(() => {
      salaries = t.app.get(getRepositoryToken(Salary));
    });

    it('never gives a non-holder the field a holder read and cached, in GET /P/:id, GET /P and history', async () => {
      const team = unique('team');
      const salary = await salaries.create({ name: 'Ada', team, amount: 9000 });
      for (let i = 0; i < 2; i++) {
        expect((await http(t).get(`/salaries/${salary.id}`).set(asPrincipal(HOLDER)).expect(200)).body.amount).toBe(9000);
        expect((await http(t).get(`/salaries?team=${team}`).set(asPrincipal(HOLDER)).expect(200)).body.items[0].amount).toBe(9000);
        expect((await http(t).get(`/salaries/${salary.id}/history`).set(asPrincipal(HOLDER)).expect(200)).body.fields).toHaveProperty('amount');
      }

      const one = await http(t).get(`/salaries/${salary.id}`).set(asPrincipal(NON_HOLDER)).expect(200);
      const list = await http(t).get(`/salaries?team=${team}`).set(asPrincipal(NON_HOLDER)).expect(200);
      const history = await http(t).get(`/salaries/${salary.id}/history`).set(asPrincipal(NON_HOLDER)).expect(200);
      const anonymous = await http(t).get(`/salaries/${salary.id}`).expect(200);

      expect(one.body).toEqual(expect.objectContaining({ id: salary.id, name: 'Ada' }));
      expect(one.body).not.toHaveProperty('amount');
      expect(list.body.items).toHaveLength(1);
      expect(list.body.items[0]).not.toHaveProperty('amount');
      expect(history.body.fields).not.toHaveProperty('amount');
      expect(anonymous.body).not.toHaveProperty('amount');
    });

    it('never gives a holder the view a non-holder read and cached, in GET /P/:id, GET /P and history', async () => {
      const team = unique('team');
      const salary = await salaries.create({ name: 'Grace', team, amount: 7000 });
      for (let i = 0; i < 2; i++) {
        expect((await http(t).get(`/salaries/${salary.id}`).set(asPrincipal(NON_HOLDER)).expect(200)).body).not.toHaveProperty('amount');
        expect((await http(t).get(`/salaries?team=${team}`).set(asPrincipal(NON_HOLDER)).expect(200)).body.items[0]).not.toHaveProperty('amount');
        expect((await http(t).get(`/salaries/${salary.id}/history`).set(asPrincipal(NON_HOLDER)).expect(200)).body.fields).not.toHaveProperty('amount');
      }

      const one = await http(t).get(`/salaries/${salary.id}`).set(asPrincipal(HOLDER)).expect(200);
      const list = await http(t).get(`/salaries?team=${team}`).set(asPrincipal(HOLDER)).expect(200);
      const history = await http(t).get(`/salaries/${salary.id}/history`).set(asPrincipal(HOLDER)).expect(200);

      expect(one.body.amount).toBe(7000);
      expect(list.body.items.map((item: Salary) => item.amount)).toEqual([7000]);
      expect(history.body.fields.amount.map((entry: { value: number }) => entry.value)).toEqual([7000]);
    });

    it("never serves one owner's cached list or record to another owner", async () => {
      const shelf = unique('shelf');
      const alice: Principal = { id: unique('alice') };
      const bob: Principal = { id: unique('bob') };
      const hers = await http(t).post('/diaries').set(asPrincipal(alice)).send({ text: 'dear diary', shelf }).expect(201);
      const his = await http(t).post('/diaries').set(asPrincipal(bob)).send({ text: 'captain log', shelf }).expect(201);
      const listAs = async (principal: Principal) =>
        ((await http(t).get(`/diaries?shelf=${shelf}`).set(asPrincipal(principal)).expect(200)).body.items as Diary[]).map((item) => item.text);

      expect(await listAs(alice)).toEqual(['dear diary']);
      expect(await listAs(alice)).toEqual(['dear diary']);
      expect((await http(t).get(`/diaries/${hers.body.id}`).set(asPrincipal(alice))).status).toBe(200);

      expect(await listAs(bob)).toEqual(['captain log']);
      expect((await http(t).get(`/diaries/${hers.body.id}`).set(asPrincipal(bob))).status).toBe(404);
      expect((await http(t).get(`/diaries/${his.body.id}`).set(asPrincipal(alice))).status).toBe(404);
      expect(await listAs({ id: unique('carol') })).toEqual([]);
      expect(await listAs({ id: unique('reader'), permissions: ['diaries:read'] })).toEqual(['dear diary', 'captain log']);
    });

    it('changes what the next cached read returns to a grantee when a grant or revoke goes through AclService', async () => {
      const acl = t.app.get(AclService);
      const vaults: EntityRepository<Vault> = t.app.get(getRepositoryToken(Vault));
      const shelf = unique('shelf');
      const first = await vaults.create({ label: 'first', shelf });
      const second = await vaults.create({ label: 'second', shelf });
      const grantee: Principal = { id: unique('grantee') };
      const getAs = (id: string) => http(t).get(`/vaults/${id}`).set(asPrincipal(grantee));
      const listed = async () =>
        ((await http(t).get(`/vaults?shelf=${shelf}`).set(asPrincipal(grantee)).expect(200)).body.items as Vault[]).map((item) => item.label);

      expect((await getAs(first.id)).status).toBe(403);

      await acl.grant(grantee.id, 'vaults', first.id, ['read']);
      expect((await getAs(first.id)).status).toBe(200);
      expect((await getAs(first.id)).status).toBe(200);
      expect(await listed()).toEqual(['first']);
      expect(await listed()).toEqual(['first']);

      await acl.grant(grantee.id, 'vaults', second.id, ['read']);
      expect((await getAs(second.id)).body).toEqual(expect.objectContaining({ id: second.id, label: 'second' }));
      expect(await listed()).toEqual(['first', 'second']);

      await acl.revoke(grantee.id, 'vaults', second.id);
      expect((await getAs(second.id)).status).toBe(404);
      expect(await listed()).toEqual(['first']);

      await acl.revoke(grantee.id, 'vaults', first.id);
      expect((await getAs(first.id)).status).toBe(403);
    });

    it('changes what the next cached read returns to a group member when the membership changes', async () => {
      const acl = t.app.get(AclService);
      const vaults: EntityRepository<Vault> = t.app.get(getRepositoryToken(Vault));
      const shelf = unique('shelf');
      const group = unique('auditors');
      const vault = await vaults.create({ label: 'shared', shelf });
      await vaults.create({ label: 'private', shelf });
      const member: Principal = { id: unique('member') };
      await acl.grant(`group:${group}`, 'vaults', vault.id, ['read']);
      await acl.grant(member.id, 'vaults', (await vaults.create({ label: 'own', shelf })).id, ['read']);
      const listed = async () =>
        ((await http(t).get(`/vaults?shelf=${shelf}`).set(asPrincipal(member)).expect(200)).body.items as Vault[]).map((item) => item.label);

      expect(await listed()).toEqual(['own']);
      expect(await listed()).toEqual(['own']);
      await acl.addMember(member.id, group);
      expect(await listed()).toEqual(['shared', 'own']);
      expect(await listed()).toEqual(['shared', 'own']);
      await acl.removeMember(member.id, group);
      expect(await listed()).toEqual(['own']);
    });
  });
});

describe.each(PLATFORMS)('cache options of forRoot on %s', (platform) => {
  it('caches an entity without @Cached when `cache: { all: true }`, and still returns fresh state', async () => {
    const t = await createTestApp({ entities: [PlainNote], platform, module: { cache: { all: true } } });
    try {
      const created = await http(t).post('/plain-notes').send({ text: 'cached anyway' }).expect(201);
      await http(t).get(`/plain-notes/${created.body.id}`).expect(200);
      await http(t).get(`/plain-notes/${created.body.id}`).expect(200);
      expect(metricsOf(t, 'plain-notes')).toEqual({ hits: 1, misses: 1, invalidations: 0 });

      await http(t).patch(`/plain-notes/${created.body.id}`).send({ text: 'changed' }).expect(200);
      const after = await http(t).get(`/plain-notes/${created.body.id}`).expect(200);

      expect(after.body).toEqual(expect.objectContaining({ text: 'changed', version: 2 }));
      expect(metricsOf(t, 'plain-notes')).toEqual({ hits: 1, misses: 2, invalidations: 1 });
    } finally {
      await t.close();
    }
  });

  it.each([
    ['that swallows store errors (Keyv default)', false],
    ['that rethrows store errors (Keyv throwOnErrors)', true],
  ])('answers from the store, correctly, when the cache store throws on get and set, through a Keyv %s', async (_how, throwOnErrors) => {
    const broken = brokenStore();
    const manager = createCache({ stores: [new Keyv({ store: broken.store, throwOnErrors })] });
    const t = await createTestApp({ entities: [CachedNote], platform, module: { cache: { manager } } });
    try {
      const tag = unique('tag');
      const created = await http(t).post('/cached-notes').send({ text: 'v1', tag }).expect(201);
      const id = created.body.id as string;

      expect((await http(t).get(`/cached-notes/${id}`).expect(200)).body).toEqual(created.body);
      expect((await http(t).get(`/cached-notes/${id}`).expect(200)).body).toEqual(created.body);
      expect((await http(t).get(`/cached-notes?tag=${tag}`).expect(200)).body.items).toEqual([created.body]);

      await http(t).patch(`/cached-notes/${id}`).set('If-Match', '"1"').send({ text: 'v2' }).expect(200);
      const after = await http(t).get(`/cached-notes/${id}`).expect(200);
      expect(after.body).toEqual(expect.objectContaining({ text: 'v2', version: 2 }));
      expect(after.headers['etag']).toBe('"2"');
      expect((await http(t).get(`/cached-notes?tag=${tag}`).expect(200)).body.items.map((item: CachedNote) => item.text)).toEqual(['v2']);
      const history = await http(t).get(`/cached-notes/${id}/history`).expect(200);
      expect(history.body.fields.text.map((entry: { value: string }) => entry.value)).toEqual(['v2', 'v1']);

      await http(t).delete(`/cached-notes/${id}`).expect(204);
      expect((await http(t).get(`/cached-notes/${id}`)).status).toBe(404);

      expect(broken.calls.get).toBeGreaterThan(0);
      expect(broken.calls.set).toBeGreaterThan(0);
      expect(metricsOf(t, 'cached-notes').hits).toBe(0);
    } finally {
      await t.close();
    }
  });
});
