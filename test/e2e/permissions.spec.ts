import { Audited, Entity, Field, Historize, Permission, type Principal } from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../support/test-app.util.js';
import { asPrincipal, expectErrorStatus, expectNestError, http, principalFromHeader } from './support/e2e.util.js';

/** Every action has a rule. */
@Entity('perm-permits')
@Permission({ read: 'permits:read', create: 'permits:create', update: 'permits:write', delete: 'permits:delete' })
class GuardedPermit {
  @Field()
  title!: string;
}

/** Only `create` needs a permission: reading, updating and deleting are opened to everyone with `null`. */
@Entity('perm-notices')
@Permission({ create: 'notices:create', read: null, update: null, delete: null })
class Notice {
  @Field()
  text!: string;
}

/** Only `read` has a rule, like README's claims once did: every other action needs its default permission. */
@Entity('perm-ledgers')
@Permission({ read: 'perm-ledgers:read' })
@Historize('full')
@Audited()
class Ledger {
  @Field()
  entry!: string;
}

/** Reading is opened with `null`, so its history is open too; `audit` follows `update`'s default. */
@Entity('perm-boards')
@Permission({ read: null })
@Historize('full')
@Audited()
class Board {
  @Field()
  text!: string;
}

/** No `@Permission` at all. */
@Entity('perm-memos')
class Memo {
  @Field()
  body!: string;
}

const ROLES = {
  clerk: ['permits:read', 'permits:create'],
  editor: ['permits:write'],
  superuser: ['*'],
  permitOfficer: ['permits:*'],
} as const;

const MISSING_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

type Call = (t: TestApp, headers: Record<string, string>, id: string) => Promise<{ status: number; body: any; headers: any }>;

/** One request per route of an entity with path `path`, for the actions it performs. */
function routes(path: string): Record<'list' | 'read' | 'create' | 'batch' | 'replace' | 'update' | 'delete', Call> {
  return {
    list: (t, headers) => http(t).get(`/${path}`).set(headers),
    read: (t, headers, id) => http(t).get(`/${path}/${id}`).set(headers),
    create: (t, headers) => http(t).post(`/${path}`).set(headers).send({ title: 'new' }),
    batch: (t, headers) =>
      http(t)
        .post(`/${path}/batch`)
        .set(headers)
        .send([{ title: 'a' }, { title: 'b' }]),
    replace: (t, headers, id) => http(t).put(`/${path}/${id}`).set(headers).send({ title: 'replaced' }),
    update: (t, headers, id) => http(t).patch(`/${path}/${id}`).set(headers).send({ title: 'updated' }),
    delete: (t, headers, id) => http(t).delete(`/${path}/${id}`).set(headers),
  };
}

const permitRoutes = routes('perm-permits');
const ALL_ROUTES = Object.keys(permitRoutes) as (keyof typeof permitRoutes)[];
const SUCCESS: Record<keyof typeof permitRoutes, number> = { list: 200, read: 200, create: 201, batch: 201, replace: 200, update: 200, delete: 204 };

describe.each(PLATFORMS)('entity-level @Permission on %s', (platform) => {
  let t: TestApp;
  const root = asPrincipal({ id: 'root', permissions: ['*'] });

  beforeAll(async () => {
    t = await createTestApp({
      entities: [GuardedPermit, Notice, Memo, Ledger, Board],
      platform,
      module: { getPrincipal: principalFromHeader, roles: { ...ROLES } },
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  async function permit(): Promise<string> {
    const response = await http(t).post('/perm-permits').set(root).send({ title: 'seed' });
    expect(response.status).toBe(201);
    return response.body.id as string;
  }

  async function expectAllowed(principal: Principal, allowed: (keyof typeof permitRoutes)[]): Promise<void> {
    const headers = asPrincipal(principal);
    for (const route of ALL_ROUTES) {
      const id = await permit();
      const response = await permitRoutes[route](t, headers, id);
      if (allowed.includes(route)) {
        expect({ route, status: response.status }).toEqual({ route, status: SUCCESS[route] });
      } else {
        expect({ route, status: response.status }).toEqual({ route, status: 403 });
        expectNestError(response, 403);
      }
    }
  }

  it.each(ALL_ROUTES)('answers an anonymous %s with 401 when the action has a rule', async (route) => {
    const id = await permit();
    const response = await permitRoutes[route](t, {}, id);
    expectErrorStatus(response, 401);
  });

  it("answers 401 in Nest's error shape { statusCode, message, error }", async () => {
    const response = await http(t).get('/perm-permits');
    expectNestError(response, 401);
    expect(response.body.error).toBe('Unauthorized');
  });

  it('changes nothing when an anonymous write is refused', async () => {
    const id = await permit();
    await permitRoutes.update(t, {}, id);
    await permitRoutes.delete(t, {}, id);
    const read = await http(t).get(`/perm-permits/${id}`).set(root);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(expect.objectContaining({ title: 'seed', version: 1 }));
  });

  it('answers a principal without the permission with 403 on every route', async () => {
    await expectAllowed({ id: 'nobody' }, []);
    await expectAllowed({ id: 'other', permissions: ['notices:create', 'permits:admin', 'permits'] }, []);
  });

  it('answers 403 before 404: a missing record does not reveal itself to a principal lacking the permission', async () => {
    const headers = asPrincipal({ id: 'nobody' });
    expectNestError(await http(t).get(`/perm-permits/${MISSING_ID}`).set(headers), 403);
    expectNestError(await http(t).delete(`/perm-permits/${MISSING_ID}`).set(headers), 403);
  });

  it('changes nothing when a principal without the permission writes', async () => {
    const id = await permit();
    const headers = asPrincipal({ id: 'reader', permissions: ['permits:read'] });
    expectNestError(await permitRoutes.update(t, headers, id), 403);
    expectNestError(await permitRoutes.replace(t, headers, id), 403);
    expectNestError(await permitRoutes.delete(t, headers, id), 403);
    const read = await http(t).get(`/perm-permits/${id}`).set(headers);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(expect.objectContaining({ title: 'seed', version: 1 }));
  });

  it('allows exactly the actions whose permissions the principal holds in `permissions`', async () => {
    await expectAllowed({ id: 'reader', permissions: ['permits:read'] }, ['list', 'read']);
    await expectAllowed({ id: 'writer', permissions: ['permits:write'] }, ['replace', 'update']);
    await expectAllowed({ id: 'deleter', permissions: ['permits:delete'] }, ['delete']);
    await expectAllowed({ id: 'maker', permissions: ['permits:create'] }, ['create', 'batch']);
  });

  it('allows the actions granted through `roles`', async () => {
    await expectAllowed({ id: 'clara', roles: ['clerk'] }, ['list', 'read', 'create', 'batch']);
    await expectAllowed({ id: 'eddie', roles: ['clerk', 'editor'] }, ['list', 'read', 'create', 'batch', 'replace', 'update']);
  });

  it('combines `roles` and `permissions`', async () => {
    await expectAllowed({ id: 'mixed', roles: ['editor'], permissions: ['permits:delete'] }, ['replace', 'update', 'delete']);
  });

  it('grants nothing for a role the roles map does not know', async () => {
    await expectAllowed({ id: 'ghost', roles: ['wizard', 'toString', '__proto__'] }, []);
  });

  it("allows everything to a principal holding '*'", async () => {
    await expectAllowed({ id: 'star', permissions: ['*'] }, ALL_ROUTES);
  });

  it("allows everything to a principal holding '*' through a role", async () => {
    await expectAllowed({ id: 'super', roles: ['superuser'] }, ALL_ROUTES);
  });

  it("allows every permits:... permission to a principal holding 'permits:*'", async () => {
    await expectAllowed({ id: 'officer', permissions: ['permits:*'] }, ALL_ROUTES);
    await expectAllowed({ id: 'officer2', roles: ['permitOfficer'] }, ALL_ROUTES);
  });

  it("does not let 'permits:*' hold permissions of another prefix", async () => {
    const response = await http(t)
      .post('/perm-notices')
      .set(asPrincipal({ id: 'officer', permissions: ['permits:*'] }))
      .send({ text: 'hi' });
    expectNestError(response, 403);
    const lookalike = await http(t)
      .get('/perm-permits')
      .set(asPrincipal({ id: 'sly', permissions: ['perm:*', 'permit:*'] }));
    expectNestError(lookalike, 403);
  });

  it('leaves an action whose rule is null open to everyone, anonymous included', async () => {
    const created = await http(t)
      .post('/perm-notices')
      .set(asPrincipal({ id: 'n', permissions: ['notices:create'] }))
      .send({ text: 'hello' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const list = await http(t).get('/perm-notices');
    expect(list.status).toBe(200);
    expect(list.body.items.map((item: any) => item.id)).toContain(id);
    expect((await http(t).get(`/perm-notices/${id}`)).status).toBe(200);
    expect((await http(t).patch(`/perm-notices/${id}`).send({ text: 'edited' })).status).toBe(200);
    expect((await http(t).put(`/perm-notices/${id}`).send({ text: 'replaced' })).status).toBe(200);
    expect(
      (
        await http(t)
          .get(`/perm-notices/${id}`)
          .set(asPrincipal({ id: 'nobody' }))
      ).status,
    ).toBe(200);
    expect((await http(t).delete(`/perm-notices/${id}`)).status).toBe(204);
  });

  it('still guards the action that has a rule on a partly guarded entity', async () => {
    expectErrorStatus(await http(t).post('/perm-notices').send({ text: 'anon' }), 401);
    expectErrorStatus(
      await http(t)
        .post('/perm-notices/batch')
        .send([{ text: 'anon' }]),
      401,
    );
    expectNestError(
      await http(t)
        .post('/perm-notices')
        .set(asPrincipal({ id: 'nobody' }))
        .send({ text: 'x' }),
      403,
    );
  });

  it("requires '<name>:<action>' for an action without a rule, so a missing delete rule opens nothing", async () => {
    const reader = asPrincipal({ id: 'reader', permissions: ['perm-ledgers:read'] });
    const created = await http(t)
      .post('/perm-ledgers')
      .set(asPrincipal({ id: 'maker', permissions: ['perm-ledgers:create'] }))
      .send({ entry: 'seed' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    for (const headers of [{}, reader]) {
      const status = Object.keys(headers).length === 0 ? 401 : 403;
      expectNestError(await http(t).delete(`/perm-ledgers/${id}`).set(headers), status);
      // The same answer for an id no record has: a refused delete confirms nothing.
      expectNestError(await http(t).delete(`/perm-ledgers/${MISSING_ID}`).set(headers), status);
      expectNestError(await http(t).post('/perm-ledgers').set(headers).send({ entry: 'x' }), status);
      expectNestError(await http(t).patch(`/perm-ledgers/${id}`).set(headers).send({ entry: 'x' }), status);
      expectNestError(await http(t).put(`/perm-ledgers/${id}`).set(headers).send({ entry: 'x' }), status);
    }
    expect((await http(t).get(`/perm-ledgers/${id}`).set(reader)).body).toEqual(expect.objectContaining({ entry: 'seed', version: 1 }));
    expect(
      (
        await http(t)
          .patch(`/perm-ledgers/${id}`)
          .set(asPrincipal({ id: 'u', permissions: ['perm-ledgers:update'] }))
          .send({ entry: 'edited' })
      ).status,
    ).toBe(200);
    expect(
      (
        await http(t)
          .delete(`/perm-ledgers/${id}`)
          .set(asPrincipal({ id: 'd', permissions: ['perm-ledgers:delete'] }))
      ).status,
    ).toBe(204);
  });

  it("lets history follow read's rule and audit follow update's default when neither is written", async () => {
    const ledger = (await http(t).post('/perm-ledgers').set(root).send({ entry: 'seed' })).body.id as string;
    expectNestError(await http(t).get(`/perm-ledgers/${ledger}/history`), 401);
    expect(
      (
        await http(t)
          .get(`/perm-ledgers/${ledger}/history`)
          .set(asPrincipal({ id: 'r', permissions: ['perm-ledgers:read'] }))
      ).status,
    ).toBe(200);
    expectNestError(
      await http(t)
        .get(`/perm-ledgers/${ledger}/audit`)
        .set(asPrincipal({ id: 'r', permissions: ['perm-ledgers:read'] })),
      403,
    );
    expect(
      (
        await http(t)
          .get(`/perm-ledgers/${ledger}/audit`)
          .set(asPrincipal({ id: 'u', permissions: ['perm-ledgers:update'] }))
      ).status,
    ).toBe(200);

    const board = (await http(t).post('/perm-boards').set(root).send({ text: 'seed' })).body.id as string;
    expect((await http(t).get(`/perm-boards/${board}`)).status).toBe(200);
    expect((await http(t).get(`/perm-boards/${board}/history`)).status).toBe(200);
    expectNestError(await http(t).get(`/perm-boards/${board}/audit`), 401);
    expectNestError(
      await http(t)
        .get(`/perm-boards/${board}/audit`)
        .set(asPrincipal({ id: 'u', permissions: ['boards:update'] })),
      403,
    );
    expect(
      (
        await http(t)
          .get(`/perm-boards/${board}/audit`)
          .set(asPrincipal({ id: 'u', permissions: ['perm-boards:update'] }))
      ).status,
    ).toBe(200);
  });

  it('leaves an entity without @Permission open when permissions are not required', async () => {
    const created = await http(t).post('/perm-memos').send({ body: 'open' });
    expect(created.status).toBe(201);
    expect((await http(t).get(`/perm-memos/${created.body.id}`)).status).toBe(200);
    expect((await http(t).get('/perm-memos')).status).toBe(200);
    expect(
      (
        await http(t)
          .patch(`/perm-memos/${created.body.id}`)
          .set(asPrincipal({ id: 'x' }))
          .send({ body: 'edit' })
      ).status,
    ).toBe(200);
    expect((await http(t).delete(`/perm-memos/${created.body.id}`)).status).toBe(204);
  });

  it('treats a principal without an id as anonymous', async () => {
    const response = await http(t)
      .get('/perm-permits')
      .set(asPrincipal({ id: '', permissions: ['*'] }));
    expectErrorStatus(response, 401);
  });
});

describe.each(PLATFORMS)('requirePermissions: true on %s', (platform) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      entities: [GuardedPermit, Notice, Memo],
      platform,
      module: { getPrincipal: principalFromHeader, roles: { ...ROLES }, requirePermissions: true },
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers 403 on every route of an entity without @Permission, to anyone', async () => {
    const memoRoutes = routes('perm-memos');
    for (const headers of [{}, asPrincipal({ id: 'someone' }), asPrincipal({ id: 'root', permissions: ['*'] })]) {
      for (const route of ALL_ROUTES) {
        const response = await memoRoutes[route](t, headers, MISSING_ID);
        expect({ route, status: response.status }).toEqual({ route, status: 403 });
        expectNestError(response, 403);
      }
    }
  });

  it('keeps entities with @Permission working by their rules', async () => {
    expectErrorStatus(await http(t).get('/perm-permits'), 401);
    const created = await http(t)
      .post('/perm-permits')
      .set(asPrincipal({ id: 'clara', roles: ['clerk'] }))
      .send({ title: 'ok' });
    expect(created.status).toBe(201);
    expect(
      (
        await http(t)
          .get(`/perm-permits/${created.body.id}`)
          .set(asPrincipal({ id: 'clara', roles: ['clerk'] }))
      ).status,
    ).toBe(200);
    expectNestError(
      await http(t)
        .delete(`/perm-permits/${created.body.id}`)
        .set(asPrincipal({ id: 'clara', roles: ['clerk'] })),
      403,
    );
  });

  it('keeps an action whose rule is null open on an entity with @Permission', async () => {
    const created = await http(t)
      .post('/perm-notices')
      .set(asPrincipal({ id: 'n', permissions: ['notices:create'] }))
      .send({ text: 'hello' });
    expect(created.status).toBe(201);
    expect((await http(t).get(`/perm-notices/${created.body.id}`)).status).toBe(200);
  });
});
