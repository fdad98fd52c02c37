import { AclService, Cached, Entity, EntityRepository, Field, getRepositoryToken, Historize, Permission, type Principal } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { expectNestError, http, principalFromHeader, unique } from '../support/e2e.util.js';
import { as } from './access.util.js';

/** Reads go through the cache: every answer below is asked for first by a principal who sees more. */
@Entity('docs')
@Permission({ read: 'docs:read', update: 'docs:update', owner: 'ownerId' })
@Historize('full')
@Cached({ ttl: 60_000 })
class CachedDoc {
  @Field() title!: string;
  @Field() tag!: string;
  @Field({ required: false })
  @Permission({ read: 'docs:secret' })
  secret?: string;
  @Field({ required: false }) ownerId?: string;
}

const CLEARED: Principal = { id: 'cleared', permissions: ['docs:read', 'docs:secret'] };
const READER: Principal = { id: 'reader', permissions: ['docs:read'] };

describe.each(PLATFORMS)('access rules on a @Cached entity on %s', (platform) => {
  let t: TestApp;
  let acl: AclService;
  let repo: EntityRepository<CachedDoc>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [CachedDoc], platform, module: { getPrincipal: principalFromHeader } });
    acl = t.app.get(AclService);
    repo = t.app.get(getRepositoryToken(CachedDoc));
  });

  afterAll(async () => {
    await t?.close();
  });

  it('never serves a view with a field to a principal that may not read it, after one that may', async () => {
    const tag = unique('tag');
    const { id } = await repo.create({ title: 'seed', tag, secret: 'cached-secret', ownerId: 'someone' });
    await repo.update(id, { secret: 'cached-secret-2' });
    for (const path of [`/docs/${id}`, `/docs?tag=${tag}`, `/docs/${id}/history`]) {
      const cleared = await http(t).get(path).set(as(CLEARED));
      expect({ path, status: cleared.status }).toEqual({ path, status: 200 });
      expect(JSON.stringify(cleared.body)).toContain('cached-secret');
      const reader = await http(t).get(path).set(as(READER));
      expect({ path, status: reader.status }).toEqual({ path, status: 200 });
      expect({ path, leaked: JSON.stringify(reader.body).includes('cached-secret') }).toEqual({ path, leaked: false });
    }
  });

  it("never serves one owner's list or record to another principal asking the same URL", async () => {
    const tag = unique('tag');
    const owner = { id: unique('owner') };
    const other = { id: unique('other') };
    const mine = await repo.create({ title: 'mine', tag, ownerId: owner.id });
    expect((await http(t).get(`/docs?tag=${tag}`).set(as(owner))).body.items.map((item: { id: string }) => item.id)).toEqual([mine.id]);
    expect((await http(t).get(`/docs?tag=${tag}`).set(as(other))).body.items).toEqual([]);
    expect((await http(t).get(`/docs/${mine.id}`).set(as(owner))).status).toBe(200);
    expectNestError(await http(t).get(`/docs/${mine.id}`).set(as(other)), 404);
    expectNestError(await http(t).get(`/docs/${mine.id}/history`).set(as(other)), 404);
  });

  it('applies a grant, a revoke and a membership change to cached reads at once', async () => {
    const tag = unique('tag');
    const { id } = await repo.create({ title: 'shared', tag, ownerId: 'someone' });
    const grantee = { id: unique('grantee') };
    expectNestError(await http(t).get(`/docs/${id}`).set(as(grantee)), 404);
    expect((await http(t).get(`/docs?tag=${tag}`).set(as(grantee))).body.items).toEqual([]);

    await acl.grant(grantee.id, 'docs', id, ['read']);
    expect((await http(t).get(`/docs/${id}`).set(as(grantee))).status).toBe(200);
    expect((await http(t).get(`/docs?tag=${tag}`).set(as(grantee))).body.items).toHaveLength(1);

    await acl.revoke(grantee.id, 'docs', id);
    expectNestError(await http(t).get(`/docs/${id}`).set(as(grantee)), 404);
    expect((await http(t).get(`/docs?tag=${tag}`).set(as(grantee))).body.items).toEqual([]);

    const group = unique('readers');
    await acl.grant(`group:${group}`, 'docs', id, ['read']);
    expectNestError(await http(t).get(`/docs/${id}`).set(as(grantee)), 404);
    await acl.addMember(grantee.id, group);
    expect((await http(t).get(`/docs/${id}`).set(as(grantee))).status).toBe(200);
    await acl.removeMember(grantee.id, group);
    expectNestError(await http(t).get(`/docs/${id}`).set(as(grantee)), 404);
  });

  it('serves the new value of a field to its readers right after a write', async () => {
    const { id } = await repo.create({ title: 'seed', tag: unique('tag'), secret: 'old', ownerId: 'someone' });
    expect((await http(t).get(`/docs/${id}`).set(as(CLEARED))).body.secret).toBe('old');
    await repo.update(id, { secret: 'new' });
    expect((await http(t).get(`/docs/${id}`).set(as(CLEARED))).body.secret).toBe('new');
  });
});
