import { Entity, EntityRepository, Field, getRepositoryToken, Permission, type Principal } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { expectNestError, http, principalFromHeader, unique, type HttpResponse } from '../support/e2e.util.js';
import { as, walkAs } from './access.util.js';

/** Creating is open; reading, changing and deleting need a permission, or owning the record. */
@Entity('memos')
@Permission({ read: 'memos:read', create: null, update: 'memos:update', delete: 'memos:delete', owner: 'ownerId' })
class OwnedMemo {
  @Field() title!: string;
  @Field() tag!: string;
  @Field({ required: false }) ownerId?: string;
}

const EDITOR: Principal = { id: 'editor', permissions: ['memos:*'] };

describe.each(PLATFORMS)('the owner rule on %s', (platform) => {
  let t: TestApp;
  let repo: EntityRepository<OwnedMemo>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [OwnedMemo], platform, module: { getPrincipal: principalFromHeader } });
    repo = t.app.get(getRepositoryToken(OwnedMemo));
  });

  afterAll(async () => {
    await t?.close();
  });

  function someone(): Principal {
    return { id: unique('owner') };
  }

  async function createAs(principal: Principal, body: Record<string, unknown>): Promise<Record<string, any>> {
    const response = await http(t).post('/memos').set(as(principal)).send(body);
    expect(response.status).toBe(201);
    return response.body as Record<string, any>;
  }

  /**
   * A body naming an owner never decides the owner: the package either ignores the claim
   * (the write succeeds with the owner it stamps) or refuses the body with 400 naming the
   * field, changing nothing.
   */
  function expectClaimWithoutEffect(response: HttpResponse, success: number): 'ignored' | 'refused' {
    expect([success, 400]).toContain(response.status);
    if (response.status === success) return 'ignored';
    expect(expectNestError(response, 400)).toContain('ownerId');
    return 'refused';
  }

  it("stamps the owner field with the principal's id on POST", async () => {
    const owner = someone();
    const memo = await createAs(owner, { title: 'silent', tag: unique('tag') });
    expect(memo.ownerId).toBe(owner.id);
    expect((await repo.findById(memo.id))?.ownerId).toBe(owner.id);
  });

  it('never lets a POST body claim another owner', async () => {
    const owner = someone();
    const tag = unique('tag');
    const response = await http(t).post('/memos').set(as(owner)).send({ title: 'claims', tag, ownerId: 'victim' });
    if (expectClaimWithoutEffect(response, 201) === 'ignored') {
      expect(response.body.ownerId).toBe(owner.id);
      expect((await repo.findById(response.body.id))?.ownerId).toBe(owner.id);
    } else {
      expect((await repo.find({ where: { tag } })).items).toEqual([]);
    }
    expect(
      (
        await http(t)
          .get(`/memos?tag=${tag}`)
          .set(as({ id: 'victim' }))
      ).body.items,
    ).toEqual([]);
  });

  it('stamps every element of a POST /memos/batch, and lets no element claim another owner', async () => {
    const owner = someone();
    const tag = unique('tag');
    const stamped = await http(t)
      .post('/memos/batch')
      .set(as(owner))
      .send([
        { title: 'a', tag },
        { title: 'b', tag },
      ]);
    expect(stamped.status).toBe(201);
    expect(stamped.body.map((memo: OwnedMemo) => memo.ownerId)).toEqual([owner.id, owner.id]);
    const claimTag = unique('tag');
    const claiming = await http(t)
      .post('/memos/batch')
      .set(as(owner))
      .send([
        { title: 'a', tag: claimTag },
        { title: 'b', tag: claimTag, ownerId: 'victim' },
      ]);
    if (expectClaimWithoutEffect(claiming, 201) === 'ignored') {
      expect(claiming.body.map((memo: OwnedMemo) => memo.ownerId)).toEqual([owner.id, owner.id]);
    } else {
      expect((await repo.find({ where: { tag: claimTag } })).items).toEqual([]);
    }
  });

  it('lets no anonymous create claim an owner', async () => {
    const tag = unique('tag');
    const response = await http(t).post('/memos').send({ title: 'anonymous', tag, ownerId: 'victim' });
    if (expectClaimWithoutEffect(response, 201) === 'ignored') {
      expect((await repo.findById(response.body.id))?.ownerId).toBeUndefined();
    }
    expect(
      (
        await http(t)
          .get(`/memos?tag=${tag}`)
          .set(as({ id: 'victim' }))
      ).body.items,
    ).toEqual([]);
    const unclaimed = await http(t).post('/memos').send({ title: 'anonymous', tag });
    expect(unclaimed.status).toBe(201);
    expect(unclaimed.body).not.toHaveProperty('ownerId');
  });

  it('keeps the owner field when the owner PATCHes or PUTs another owner into it', async () => {
    const owner = someone();
    const memo = await createAs(owner, { title: 'mine', tag: unique('tag') });
    const patched = await http(t).patch(`/memos/${memo.id}`).set(as(owner)).send({ ownerId: 'thief', title: 'patched' });
    if (expectClaimWithoutEffect(patched, 200) === 'ignored') expect(patched.body.ownerId).toBe(owner.id);
    const replaced = await http(t).put(`/memos/${memo.id}`).set(as(owner)).send({ title: 'replaced', tag: memo.tag, ownerId: 'thief' });
    if (expectClaimWithoutEffect(replaced, 200) === 'ignored') expect(replaced.body.ownerId).toBe(owner.id);
    expect((await repo.findById(memo.id))?.ownerId).toBe(owner.id);
    // Still the owner's: it reads it, the would-be thief does not.
    expect((await http(t).get(`/memos/${memo.id}`).set(as(owner))).status).toBe(200);
    expectNestError(
      await http(t)
        .get(`/memos/${memo.id}`)
        .set(as({ id: 'thief' })),
      404,
    );
  });

  it('keeps the owner field when a PUT leaves it out', async () => {
    const owner = someone();
    const memo = await createAs(owner, { title: 'mine', tag: unique('tag') });
    const replaced = await http(t).put(`/memos/${memo.id}`).set(as(owner)).send({ title: 'replaced', tag: memo.tag });
    expect(replaced.status).toBe(200);
    expect(replaced.body.ownerId).toBe(owner.id);
    expect((await repo.findById(memo.id))?.ownerId).toBe(owner.id);
  });

  it('keeps the owner field when a principal holding memos:update changes it', async () => {
    const owner = someone();
    const memo = await createAs(owner, { title: 'mine', tag: unique('tag') });
    expectClaimWithoutEffect(await http(t).patch(`/memos/${memo.id}`).set(as(EDITOR)).send({ ownerId: EDITOR.id }), 200);
    expectClaimWithoutEffect(await http(t).put(`/memos/${memo.id}`).set(as(EDITOR)).send({ title: 'edited', tag: memo.tag, ownerId: EDITOR.id }), 200);
    expect((await repo.findById(memo.id))?.ownerId).toBe(owner.id);
  });

  it('lets trusted code (no principal key) set the owner field as given', async () => {
    const memo = await repo.create({ title: 'imported', tag: unique('tag'), ownerId: 'imported-owner' });
    expect(memo.ownerId).toBe('imported-owner');
    const moved = await repo.update(memo.id, { ownerId: 'new-owner' });
    expect(moved.ownerId).toBe('new-owner');
  });

  it("lists only the owner's own records, each once and in order, across pages of 2", async () => {
    const owner = someone();
    const other = someone();
    const tag = unique('tag');
    const mine: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      mine.push((await createAs(owner, { title: `mine-${index}`, tag })).id as string);
      await createAs(other, { title: `theirs-${index}`, tag });
      await repo.create({ title: `trusted-${index}`, tag, ownerId: 'somebody-else' });
    }
    const walk = await walkAs(t, '/memos', as(owner), { tag, limit: '2' });
    expect(walk.items.map((item) => item.id)).toEqual(mine);
    expect(walk.items.every((item) => item.ownerId === owner.id)).toBe(true);
    expect(walk.pages).toBe(3);

    const byTitle = await walkAs(t, '/memos', as(owner), { tag, limit: '2', sort: '-title' });
    expect(byTitle.items.map((item) => item.title)).toEqual(['mine-4', 'mine-3', 'mine-2', 'mine-1', 'mine-0']);

    const editorView = await walkAs(t, '/memos', as(EDITOR), { tag, limit: '4' });
    expect(editorView.items).toHaveLength(15);
  });

  it('lists nothing, with no cursor, to a principal that owns nothing', async () => {
    const tag = unique('tag');
    for (let index = 0; index < 3; index += 1) await repo.create({ title: `t-${index}`, tag, ownerId: 'somebody-else' });
    const response = await http(t).get(`/memos?tag=${tag}&limit=2`).set(as(someone()));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ items: [], nextCursor: null });
  });

  it('lets the owner read, update and delete its record without any permission, and nobody else', async () => {
    const owner = someone();
    const intruder = someone();
    const memo = await createAs(owner, { title: 'mine', tag: unique('tag') });
    expectNestError(await http(t).get(`/memos/${memo.id}`).set(as(intruder)), 404);
    // A 304 would confirm the record and its version: the read is decided first.
    expectNestError(await http(t).get(`/memos/${memo.id}`).set(as(intruder)).set('If-None-Match', '"1"'), 404);
    expectNestError(await http(t).get(`/memos/${memo.id}`).set('If-None-Match', '*'), 401);
    expect((await http(t).get(`/memos/${memo.id}`).set(as(owner)).set('If-None-Match', '"1"')).status).toBe(304);
    expectNestError(await http(t).patch(`/memos/${memo.id}`).set(as(intruder)).send({ title: 'x' }), 404);
    expectNestError(await http(t).delete(`/memos/${memo.id}`).set(as(intruder)), 404);
    expect((await http(t).get(`/memos/${memo.id}`).set(as(owner))).status).toBe(200);
    expect((await http(t).patch(`/memos/${memo.id}`).set(as(owner)).send({ title: 'edited' })).body.title).toBe('edited');
    expect((await http(t).delete(`/memos/${memo.id}`).set(as(owner))).status).toBe(204);
    expect(await repo.findById(memo.id)).toBeNull();
  });
});
