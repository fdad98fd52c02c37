import { AclService, Audited, Entity, EntityRepository, Field, getRepositoryToken, Permission } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { http, principalFromHeader, unique } from '../support/e2e.util.js';
import { as } from './access.util.js';

/**
 * A write's answer shows no more than a read would: a principal that may change a record but
 * not read it (an update or create permission without read, or an update grant without a read
 * grant) gets its id and version, the ETag it needs for the next write, and nothing else.
 */
@Entity({ name: 'wa-docs', softDelete: true })
@Permission({ read: 'docs:read', create: 'docs:create', update: 'docs:update', delete: 'docs:delete' })
@Audited()
class Doc {
  @Field() title!: string;
  @Field({ required: false, immutable: true }) code?: string;
  @Field({ required: false, immutable: true })
  @Permission({ read: 'docs:secret' })
  serial?: string;
}

@Entity('wa-notes')
@Permission({ read: 'notes:read', create: 'notes:create', update: 'notes:update', owner: 'ownerId' })
class Note {
  @Field() title!: string;
  @Field({ required: false }) ownerId?: string;
}

@Entity('wa-memos')
@Permission({ read: 'memos:read', update: 'memos:update', audit: 'memos:audit' })
@Audited()
class Memo {
  @Field() text!: string;
}

const AUTHOR = { id: 'author', permissions: ['docs:read', 'docs:create'] };
const UPDATER = { id: 'updater', permissions: ['docs:update'] };
const AUTHOR_UPDATING = { id: 'author', permissions: ['docs:read', 'docs:update'] };

describe.each(PLATFORMS)('what a write answers a principal that may not read, %s', (platform) => {
  let t: TestApp;
  let docs: EntityRepository<Doc>;
  let acl: AclService;
  let memos: EntityRepository<Memo>;
  beforeAll(async () => {
    t = await createTestApp({ entities: [Doc, Note, Memo], platform, module: { getPrincipal: principalFromHeader } });
    docs = t.app.get(getRepositoryToken(Doc));
    acl = t.app.get(AclService);
    memos = t.app.get(getRepositoryToken(Memo));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers a PATCH and a PUT by a principal without read with the id and version only', async () => {
    const created = await http(t).post('/wa-docs').set(as(AUTHOR)).send({ title: 'confidential' });
    expect(created.status).toBe(201);
    expect(created.body.title).toBe('confidential');
    const id = created.body.id as string;
    expect((await http(t).get(`/wa-docs/${id}`).set(as(UPDATER))).status).toBe(403);
    const patch = await http(t).patch(`/wa-docs/${id}`).set(as(UPDATER)).send({});
    expect(patch.status).toBe(200);
    expect(patch.body).toEqual({ id, version: 2 });
    expect(patch.headers.etag).toBe('"2"');
    const put = await http(t).put(`/wa-docs/${id}`).set(as(UPDATER)).set('If-Match', '"2"').send({ title: 'replaced' });
    expect(put.body).toEqual({ id, version: 3 });
    expect((await docs.findById(id))?.title).toBe('replaced');
  });

  it('answers a create and a batch by a principal without read with ids and versions', async () => {
    const creator = as({ id: unique('creator'), permissions: ['docs:create'] });
    const created = await http(t).post('/wa-docs').set(creator).send({ title: 'blind' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), version: 1 });
    const batch = await http(t)
      .post('/wa-docs/batch')
      .set(creator)
      .send([{ title: 'a' }, { title: 'b' }]);
    expect(batch.status).toBe(201);
    expect(batch.body).toEqual([
      { id: expect.any(String), version: 1 },
      { id: expect.any(String), version: 1 },
    ]);
  });

  it('answers a restore by a principal without read with the id and version only', async () => {
    const { id } = await docs.create({ title: 'deleted one' });
    await docs.delete(id);
    const restored = await http(t)
      .post(`/wa-docs/${id}/restore`)
      .set(as({ id: unique('deleter'), permissions: ['docs:delete'] }))
      .send({});
    expect(restored.status).toBe(200);
    expect(restored.body).toEqual({ id, version: 2 });
  });

  it('answers an update grant without a read grant with the id and version, and with the record once read is granted', async () => {
    const { id } = await docs.create({ title: 'granted' });
    const grantee = unique('grantee');
    await acl.grant(grantee, 'wa-docs', id, ['update']);
    expect(
      (
        await http(t)
          .get(`/wa-docs/${id}`)
          .set(as({ id: grantee }))
      ).status,
    ).toBe(404);
    expect(
      (
        await http(t)
          .patch(`/wa-docs/${id}`)
          .set(as({ id: grantee }))
          .send({ title: 'by grantee' })
      ).body,
    ).toEqual({ id, version: 2 });
    await acl.grant(grantee, 'wa-docs', id, ['read', 'update']);
    const patch = await http(t)
      .patch(`/wa-docs/${id}`)
      .set(as({ id: grantee }))
      .send({ title: 'seen' });
    expect(patch.body).toMatchObject({ id, version: 3, title: 'seen' });
  });

  it("answers an owner's writes in full, and its no-op changes write nothing: the owner rule lets it read its records", async () => {
    const owner = as({ id: unique('owner'), permissions: ['notes:create'] });
    const created = await http(t).post('/wa-notes').set(owner).send({ title: 'mine' });
    expect(created.body).toMatchObject({ title: 'mine', version: 1 });
    const patch = await http(t).patch(`/wa-notes/${created.body.id}`).set(owner).send({ title: 'still mine' });
    expect(patch.body).toMatchObject({ title: 'still mine', version: 2 });
    expect((await http(t).patch(`/wa-notes/${created.body.id}`).set(owner).send({ title: 'still mine' })).body).toMatchObject({ version: 2 });
    expect((await http(t).put(`/wa-notes/${created.body.id}`).set(owner).send({ title: 'still mine' })).body).toMatchObject({ version: 2 });
  });

  it('refuses an immutable field from a principal that may not read the record, whatever its value, and keeps it on a PUT that leaves it out', async () => {
    const { id } = await docs.create({ title: 'coded', code: 'SECRET-42' });
    for (const code of ['SECRET-42', 'GUESS']) {
      const patch = await http(t).patch(`/wa-docs/${id}`).set(as(UPDATER)).send({ code });
      expect(patch.status).toBe(400);
      expect(patch.body.message).toEqual(['code is immutable']);
    }
    expect((await http(t).put(`/wa-docs/${id}`).set(as(UPDATER)).send({ title: 'kept code' })).body).toEqual({ id, version: 2 });
    expect(await docs.findById(id)).toMatchObject({ title: 'kept code', code: 'SECRET-42' });
    // A PUT sending one keeps the stored value, set or not, whatever it sent: 200 either way.
    for (const code of ['SECRET-42', 'GUESS']) {
      expect((await http(t).put(`/wa-docs/${id}`).set(as(UPDATER)).send({ title: 'kept code', code })).status).toBe(200);
    }
    expect(await docs.findById(id)).toMatchObject({ code: 'SECRET-42', version: 4 });
    const uncoded = await docs.create({ title: 'no code' });
    expect((await http(t).put(`/wa-docs/${uncoded.id}`).set(as(UPDATER)).send({ title: 'no code', code: 'GUESS' })).status).toBe(200);
    expect((await docs.findById(uncoded.id))?.code).toBeUndefined();
    // The same for an immutable field under a read rule the caller lacks.
    const serialized = await docs.create({ title: 'serial', serial: 'S-1' });
    const sent = await http(t).patch(`/wa-docs/${serialized.id}`).set(as(AUTHOR_UPDATING)).send({ serial: 'S-1' });
    expect([sent.status, sent.body.message]).toEqual([400, ['serial is immutable']]);
    expect((await http(t).put(`/wa-docs/${serialized.id}`).set(as(AUTHOR_UPDATING)).send({ title: 'serial kept' })).body).toMatchObject({ version: 2 });
    expect(await docs.findById(serialized.id)).toMatchObject({ serial: 'S-1' });
    // One that may read it sends the value it read back.
    expect((await http(t).patch(`/wa-docs/${id}`).set(as(AUTHOR_UPDATING)).send({ code: 'SECRET-42', title: 'read' })).status).toBe(200);
  });

  it('refuses an owner value from code acting for a principal that may not read the record, whatever the value', async () => {
    const notes = t.app.get<EntityRepository<Note>>(getRepositoryToken(Note));
    const { id } = await notes.create({ title: 'owned' }, { principal: { id: 'alice', permissions: ['notes:create'] } });
    const updater = { id: unique('note-updater'), permissions: ['notes:update'] };
    for (const ownerId of ['alice', 'bob']) {
      await expect(notes.update(id, { ownerId }, { principal: updater })).rejects.toThrow('property ownerId should not exist');
    }
    expect(await notes.update(id, { title: 'changed' }, { principal: updater })).toEqual({ id, version: 2 });
  });

  it("shows a principal that may not read the record its audit trail's actions, not the values", async () => {
    const { id } = await docs.create({ title: 'audited secret' });
    await http(t).patch(`/wa-docs/${id}`).set(as(UPDATER)).send({ title: 'changed secret' });
    const blind = await http(t).get(`/wa-docs/${id}/audit`).set(as(UPDATER));
    expect(blind.status).toBe(200);
    expect(blind.body.items.map((entry: { action: string; changes: object }) => [entry.action, entry.changes])).toEqual([
      ['create', {}],
      ['update', {}],
    ]);
    const seen = await http(t).get(`/wa-docs/${id}/audit`).set(as(AUTHOR_UPDATING));
    expect(seen.body.items[1].changes).toEqual({ title: { from: 'audited secret', to: 'changed secret' } });
    // An entity naming an audit rule of its own shows the values to its auditors, read permission or not.
    const { id: memo } = await memos.create({ text: 'memo secret' });
    const auditor = await http(t)
      .get(`/wa-memos/${memo}/audit`)
      .set(as({ id: 'auditor', permissions: ['memos:audit'] }));
    expect(auditor.body.items[0].changes).toEqual({ text: { from: null, to: 'memo secret' } });
  });

  it('applies the same rule to repository calls made with a principal, and not to trusted ones', async () => {
    const { id } = await docs.create({ title: 'repository' });
    expect(await docs.update(id, { title: 'blind' }, { principal: UPDATER })).toEqual({ id, version: 2 });
    // Sending the value it holds still makes a version: an unchanged one would confirm the value.
    expect(await docs.update(id, { title: 'blind' }, { principal: UPDATER })).toEqual({ id, version: 3 });
    expect(await docs.update(id, { title: 'blind' }, { principal: AUTHOR_UPDATING })).toMatchObject({ title: 'blind', version: 3 });
    expect(await docs.update(id, { title: 'trusted' })).toMatchObject({ title: 'trusted', version: 4 });
  });
});
