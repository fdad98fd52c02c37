import { AclService, Entity, EntityRepository, Field, getRepositoryToken, Permission, type Principal } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { expectNestError, http, principalFromHeader, unique } from '../support/e2e.util.js';
import { as, missingId } from './access.util.js';

@Entity('docs')
@Permission({ read: 'docs:read', create: 'docs:create', update: 'docs:update', delete: 'docs:delete' })
class GrantedDoc {
  @Field() title!: string;
}

/** Its own admin rule instead of the default 'notes:admin'. */
@Entity('notes')
@Permission({ read: 'notes:read', admin: 'notes:manage' })
class ManagedNote {
  @Field() text!: string;
}

/** No @Permission: no record-level grants either. */
@Entity('pads')
class OpenPad {
  @Field() text!: string;
}

/** Holds the entity's admin permission and nothing else. */
const ADMIN: Principal = { id: 'admin', permissions: ['docs:admin'] };

describe.each(PLATFORMS)('the grants routes on %s', (platform) => {
  let t: TestApp;
  let acl: AclService;
  let docs: EntityRepository<GrantedDoc>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [GrantedDoc, ManagedNote, OpenPad], platform, module: { getPrincipal: principalFromHeader } });
    acl = t.app.get(AclService);
    docs = t.app.get(getRepositoryToken(GrantedDoc));
  });

  afterAll(async () => {
    await t?.close();
  });

  async function doc(): Promise<string> {
    return (await docs.create({ title: 'seed' })).id;
  }

  it('adds a grant with POST (201, the grant), lists it with GET, and the grantee uses it', async () => {
    const id = await doc();
    const grantee = { id: unique('grantee') };
    expectNestError(await http(t).get(`/docs/${id}`).set(as(grantee)), 403);

    const added = await http(t)
      .post(`/docs/${id}/grants`)
      .set(as(ADMIN))
      .send({ subject: grantee.id, rights: ['read'] });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ subject: grantee.id, rights: ['read'] });

    const listed = await http(t).get(`/docs/${id}/grants`).set(as(ADMIN));
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ items: [{ subject: grantee.id, rights: ['read'] }] });

    expect((await http(t).get(`/docs/${id}`).set(as(grantee))).status).toBe(200);
    expect((await http(t).get('/docs').set(as(grantee))).body.items.map((item: { id: string }) => item.id)).toEqual([id]);
    expectNestError(await http(t).patch(`/docs/${id}`).set(as(grantee)).send({ title: 'no' }), 403);
  });

  it('lists every subject of a record, users and groups, with their rights', async () => {
    const id = await doc();
    const user = unique('user');
    const group = `group:${unique('team')}`;
    expect(
      (
        await http(t)
          .post(`/docs/${id}/grants`)
          .set(as(ADMIN))
          .send({ subject: user, rights: ['read', 'delete'] })
      ).status,
    ).toBe(201);
    expect(
      (
        await http(t)
          .post(`/docs/${id}/grants`)
          .set(as(ADMIN))
          .send({ subject: group, rights: ['update', 'read'] })
      ).status,
    ).toBe(201);
    const listed = await http(t).get(`/docs/${id}/grants`).set(as(ADMIN));
    expect(listed.status).toBe(200);
    const items = (listed.body.items as Array<{ subject: string; rights: string[] }>).map((grant) => ({ ...grant, rights: [...grant.rights].sort() }));
    expect(items).toHaveLength(2);
    expect(items).toEqual(
      expect.arrayContaining([
        { subject: user, rights: ['delete', 'read'] },
        { subject: group, rights: ['read', 'update'] },
      ]),
    );
  });

  it('answers an empty list for a record without grants', async () => {
    const id = await doc();
    const listed = await http(t).get(`/docs/${id}/grants`).set(as(ADMIN));
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ items: [] });
  });

  it('removes a grant with DELETE (204), after which the grantee is refused, and answers 404 to a second DELETE', async () => {
    const id = await doc();
    const grantee = { id: unique('grantee') };
    await http(t)
      .post(`/docs/${id}/grants`)
      .set(as(ADMIN))
      .send({ subject: grantee.id, rights: ['read', 'update'] });
    expect((await http(t).get(`/docs/${id}`).set(as(grantee))).status).toBe(200);

    const removed = await http(t).delete(`/docs/${id}/grants/${grantee.id}`).set(as(ADMIN));
    expect(removed.status).toBe(204);
    expect((await http(t).get(`/docs/${id}/grants`).set(as(ADMIN))).body).toEqual({ items: [] });
    // No grant left anywhere in docs: the grantee is back to 403 on every route.
    expectNestError(await http(t).get(`/docs/${id}`).set(as(grantee)), 403);
    expectNestError(await http(t).patch(`/docs/${id}`).set(as(grantee)).send({ title: 'x' }), 403);

    expectNestError(await http(t).delete(`/docs/${id}/grants/${grantee.id}`).set(as(ADMIN)), 404);
  });

  it('removes a group grant by its group:<name> subject', async () => {
    const id = await doc();
    const subject = `group:${unique('team')}`;
    await http(t)
      .post(`/docs/${id}/grants`)
      .set(as(ADMIN))
      .send({ subject, rights: ['read'] });
    expect(
      (
        await http(t)
          .delete(`/docs/${id}/grants/${encodeURIComponent(subject)}`)
          .set(as(ADMIN))
      ).status,
    ).toBe(204);
    expect(acl.grantsOn('docs', id)).toEqual([]);
  });

  it.each([
    ['an unknown right', { subject: 'alice', rights: ['write'] }],
    ['no rights', { subject: 'alice', rights: [] }],
    ['rights as a string', { subject: 'alice', rights: 'read' }],
    ['rights that are not strings', { subject: 'alice', rights: [1] }],
    ['a repeated right', { subject: 'alice', rights: ['read', 'read'] }],
    ['missing rights', { subject: 'alice' }],
    ['an empty subject', { subject: '', rights: ['read'] }],
    ['a subject with a space', { subject: 'alice smith', rights: ['read'] }],
    ['a bare group: prefix', { subject: 'group:', rights: ['read'] }],
    ['a subject of 201 characters', { subject: 'a'.repeat(201), rights: ['read'] }],
    ['a subject that is not a string', { subject: 42, rights: ['read'] }],
    ['a missing subject', { rights: ['read'] }],
    ['an unknown property', { subject: 'alice', rights: ['read'], expires: '2030-01-01' }],
  ])('answers 400 to a grant with %s and stores nothing', async (_what, body) => {
    const id = await doc();
    expectNestError(await http(t).post(`/docs/${id}/grants`).set(as(ADMIN)).send(body), 400);
    expect(acl.grantsOn('docs', id)).toEqual([]);
  });

  it.each([
    ['of 4,100 characters', 'a'.repeat(4100)],
    ['of group: and 5,000 characters', `group:${'g'.repeat(5000)}`],
    ['of 1,100 four-byte characters', '\u{1F600}'.repeat(1100)],
    ['with a space', 'alice smith'],
  ])('answers a DELETE naming a subject %s, which no grant can have, with 404 and keeps the grants', async (_what, subject) => {
    const id = await doc();
    await acl.grant('bystander', 'docs', id, ['read']);
    const response = await http(t)
      .delete(`/docs/${id}/grants/${encodeURIComponent(subject)}`)
      .set(as(ADMIN));
    // Fastify's router answers 414 itself to a parameter longer than its maxParamLength (100 by default).
    if (platform === 'fastify' && subject.length > 100) expect(response.status).toBe(414);
    // The message names the subject, shortened: it never echoes kilobytes back.
    else expect(expectNestError(response, 404).length).toBeLessThan(200);
    expect(acl.grantsOn('docs', id)).toEqual([{ subject: 'bystander', rights: ['read'] }]);
  });

  it('drops the grants on a record deleted for good, so its grantee reaches the entity no more', async () => {
    const id = await doc();
    const grantee = { id: unique('grantee') };
    await acl.grant(grantee.id, 'docs', id, ['read']);
    await http(t).get(`/docs/${id}`).set(as(grantee)).expect(200);
    expect((await http(t).get('/docs').set(as(grantee))).status).toBe(200);
    await docs.delete(id);
    expect(acl.grantsOn('docs', id)).toEqual([]);
    // No grant left anywhere in the entity: refused up front, as before any grant.
    expectNestError(await http(t).get('/docs').set(as(grantee)), 403);
    expect(t.app.get(EntityStorage).verify().problems).toEqual([]);
  });

  it('answers 404 on all three routes for a record that does not exist', async () => {
    const id = missingId();
    expectNestError(await http(t).get(`/docs/${id}/grants`).set(as(ADMIN)), 404);
    expectNestError(
      await http(t)
        .post(`/docs/${id}/grants`)
        .set(as(ADMIN))
        .send({ subject: 'alice', rights: ['read'] }),
      404,
    );
    expectNestError(await http(t).delete(`/docs/${id}/grants/alice`).set(as(ADMIN)), 404);
    expect(acl.grantsOn('docs', id)).toEqual([]);
  });

  it("applies a grant to 'group:auditors' to members added with addMember, and no longer after removeMember", async () => {
    const id = await doc();
    const alice: Principal = { id: 'alice' };
    expect(
      (
        await http(t)
          .post(`/docs/${id}/grants`)
          .set(as(ADMIN))
          .send({ subject: 'group:auditors', rights: ['read'] })
      ).status,
    ).toBe(201);
    expectNestError(await http(t).get(`/docs/${id}`).set(as(alice)), 403);

    await acl.addMember('alice', 'auditors');
    expect((await http(t).get(`/docs/${id}`).set(as(alice))).status).toBe(200);
    expect((await http(t).get('/docs').set(as(alice))).body.items.map((item: { id: string }) => item.id)).toEqual([id]);
    expectNestError(await http(t).patch(`/docs/${id}`).set(as(alice)).send({ title: 'x' }), 403);
    expectNestError(
      await http(t)
        .get(`/docs/${id}`)
        .set(as({ id: 'bob' })),
      403,
    );

    await acl.removeMember('alice', 'auditors');
    expectNestError(await http(t).get(`/docs/${id}`).set(as(alice)), 403);
    expectNestError(await http(t).get('/docs').set(as(alice)), 403);
  });

  describe('who may use them', () => {
    it('answers 401 to an anonymous caller on all three', async () => {
      const id = await doc();
      expectNestError(await http(t).get(`/docs/${id}/grants`), 401);
      expectNestError(
        await http(t)
          .post(`/docs/${id}/grants`)
          .send({ subject: 'alice', rights: ['read'] }),
        401,
      );
      expectNestError(await http(t).delete(`/docs/${id}/grants/alice`), 401);
    });

    it.each<[string, Principal]>([
      ['every other docs permission', { id: 'editor', permissions: ['docs:read', 'docs:create', 'docs:update', 'docs:delete'] }],
      ["another entity's admin permission", { id: 'notes-admin', permissions: ['notes:admin', 'notes:manage'] }],
    ])('answers 403 on all three to a principal holding %s but not docs:admin', async (_what, principal) => {
      const id = await doc();
      await acl.grant('bystander', 'docs', id, ['read']);
      expectNestError(await http(t).get(`/docs/${id}/grants`).set(as(principal)), 403);
      expectNestError(
        await http(t)
          .post(`/docs/${id}/grants`)
          .set(as(principal))
          .send({ subject: principal.id, rights: ['read'] }),
        403,
      );
      expectNestError(await http(t).delete(`/docs/${id}/grants/bystander`).set(as(principal)), 403);
      expect(acl.grantsOn('docs', id)).toEqual([{ subject: 'bystander', rights: ['read'] }]);
    });

    it('answers 403 to a grantee holding every right on the record', async () => {
      const id = await doc();
      const grantee = { id: unique('grantee') };
      await acl.grant(grantee.id, 'docs', id, ['read', 'update', 'delete']);
      expectNestError(await http(t).get(`/docs/${id}/grants`).set(as(grantee)), 403);
      expectNestError(
        await http(t)
          .post(`/docs/${id}/grants`)
          .set(as(grantee))
          .send({ subject: 'friend', rights: ['read'] }),
        403,
      );
      expectNestError(await http(t).delete(`/docs/${id}/grants/${grantee.id}`).set(as(grantee)), 403);
      expect(acl.grantsOn('docs', id)).toEqual([{ subject: grantee.id, rights: ['delete', 'read', 'update'] }]);
    });

    it.each<[string, Principal]>([
      ["'*'", { id: 'star', permissions: ['*'] }],
      ["'docs:*'", { id: 'docs-star', permissions: ['docs:*'] }],
    ])('lets a principal holding %s use all three', async (_what, principal) => {
      const id = await doc();
      expect(
        (
          await http(t)
            .post(`/docs/${id}/grants`)
            .set(as(principal))
            .send({ subject: 'carol', rights: ['read'] })
        ).status,
      ).toBe(201);
      expect((await http(t).get(`/docs/${id}/grants`).set(as(principal))).status).toBe(200);
      expect((await http(t).delete(`/docs/${id}/grants/carol`).set(as(principal))).status).toBe(204);
    });

    it("follows an entity's own admin rule instead of '<name>:admin'", async () => {
      const notes: EntityRepository<ManagedNote> = t.app.get(getRepositoryToken(ManagedNote));
      const id = (await notes.create({ text: 'n' })).id;
      expectNestError(
        await http(t)
          .get(`/notes/${id}/grants`)
          .set(as({ id: 'x', permissions: ['notes:admin'] })),
        403,
      );
      const manager = as({ id: 'manager', permissions: ['notes:manage'] });
      expect(
        (
          await http(t)
            .post(`/notes/${id}/grants`)
            .set(manager)
            .send({ subject: 'dora', rights: ['read'] })
        ).status,
      ).toBe(201);
      expect((await http(t).get(`/notes/${id}/grants`).set(manager)).body).toEqual({ items: [{ subject: 'dora', rights: ['read'] }] });
    });

    it('serves no grants routes for an entity without @Permission', async () => {
      const pads: EntityRepository<OpenPad> = t.app.get(getRepositoryToken(OpenPad));
      const id = (await pads.create({ text: 'p' })).id;
      expect(
        (
          await http(t)
            .get(`/pads/${id}/grants`)
            .set(as({ id: 'star', permissions: ['*'] }))
        ).status,
      ).toBe(404);
    });
  });
});
