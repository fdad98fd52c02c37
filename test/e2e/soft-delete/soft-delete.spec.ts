import { SwaggerModule, DocumentBuilder } from '@nestjs/swagger';
import {
  AclService,
  AuditService,
  Audited,
  EntitiesMaintenance,
  Entity,
  EntityRepository,
  Field,
  getRepositoryToken,
  Historize,
  Index,
  Permission,
  type EntityChange,
} from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { asPrincipal, expectErrorStatus, http, principalFromHeader } from '../support/e2e.util.js';

/** Soft delete with every rule stated: clerks read and write, officers also delete (and restore), admins purge. */
@Entity({ name: 'sd-permits', softDelete: true })
@Permission({ read: 'permits:read', create: 'permits:write', update: 'permits:write', delete: 'permits:delete', admin: 'permits:admin', owner: 'owner' })
@Audited()
@Historize('full')
class SoftPermit {
  @Field() @Index({ unique: true }) number!: string;
  @Field() title!: string;
  @Field({ required: false, hidden: true }) secret?: string;
  @Field({ required: false }) @Permission({ read: 'permits:fees' }) fee?: number;
  @Field({ required: false }) owner?: string;
}

/** No owner rule: a principal without the delete permission can hold no deleted record. */
@Entity({ name: 'sd-archive', softDelete: true })
@Permission({ read: 'archive:read', create: null, update: null, delete: 'archive:delete' })
class ArchivedFile {
  @Field() name!: string;
}

/** The same without soft delete: a delete is final, and nothing of the above exists. */
@Entity('sd-plain')
class PlainNote {
  @Field() text!: string;
}

const CLERK = asPrincipal({ id: 'clerk', permissions: ['permits:read', 'permits:write'] });
const OFFICER = asPrincipal({ id: 'officer', permissions: ['permits:read', 'permits:write', 'permits:delete', 'permits:fees'] });
const ADMIN = asPrincipal({ id: 'admin', permissions: ['permits:*'] });
/** May create, but reads and deletes only the records it owns. */
const OWNER = asPrincipal({ id: 'olive', permissions: ['permits:write'] });

describe.each(PLATFORMS)('soft delete on %s', (platform) => {
  let t: TestApp;
  let repo: EntityRepository<SoftPermit>;
  let counter = 0;

  beforeAll(async () => {
    t = await createTestApp({ entities: [SoftPermit, ArchivedFile, PlainNote], platform, module: { getPrincipal: principalFromHeader } });
    repo = t.app.get(getRepositoryToken(SoftPermit));
  });
  afterAll(() => t.close());

  const create = async (extra: Partial<SoftPermit> = {}) => {
    const response = await http(t)
      .post('/sd-permits')
      .set(ADMIN)
      .send({ number: `N-${platform}-${++counter}`, title: 'permit', secret: 's', fee: 12, ...extra });
    expect(response.status).toBe(201);
    return response.body as { id: string; number: string; version: number };
  };

  it('takes a deleted record out of reads and lists, keeps it restorable, and frees its unique values', async () => {
    const permit = await create();
    expect((await http(t).delete(`/sd-permits/${permit.id}`).set(OFFICER)).status).toBe(204);
    expect((await http(t).get(`/sd-permits/${permit.id}`).set(OFFICER)).status).toBe(404);
    const live = await http(t).get(`/sd-permits?number=${permit.number}`).set(OFFICER);
    expect(live.body.items).toEqual([]);
    // The number is free again, as for a final delete; a restore then meets the taker.
    const taker = await create({ number: permit.number });

    const deleted = await http(t).get(`/sd-permits?deleted=only&number=${permit.number}`).set(OFFICER);
    expect(deleted.status).toBe(200);
    expect(deleted.body.items).toEqual([expect.objectContaining({ id: permit.id, number: permit.number, version: 1, fee: 12, deletedAt: expect.any(String) })]);
    expect(deleted.body.items[0]).not.toHaveProperty('secret');

    const conflict = await http(t).post(`/sd-permits/${permit.id}/restore`).set(OFFICER).send({});
    expectErrorStatus(conflict, 409);
    expect((await http(t).delete(`/sd-permits/${taker.id}`).set(OFFICER)).status).toBe(204);
    await http(t).delete(`/sd-permits/${taker.id}?purge=true`).set(ADMIN).expect(204);

    const restored = await http(t).post(`/sd-permits/${permit.id}/restore`).set(OFFICER).send({});
    expect(restored.status).toBe(200);
    expect(restored.headers.etag).toBe('"2"');
    expect(restored.body).toEqual(expect.objectContaining({ id: permit.id, number: permit.number, version: 2, title: 'permit', fee: 12 }));
    expect(restored.body).not.toHaveProperty('deletedAt');
    expect(restored.body).not.toHaveProperty('secret');
    expect((await http(t).get(`/sd-permits/${permit.id}`).set(OFFICER)).body.version).toBe(2);
    expect((await repo.findById(permit.id))?.secret).toBe('s');
    expect((await http(t).get(`/sd-permits?deleted=only&number=${permit.number}`).set(OFFICER)).body.items).toEqual([]);
  });

  it('restores under If-Match only at the deleted version, and answers 404 for a live or unknown id', async () => {
    const permit = await create();
    await http(t).delete(`/sd-permits/${permit.id}`).set(OFFICER).expect(204);
    expectErrorStatus(await http(t).post(`/sd-permits/${permit.id}/restore`).set(OFFICER).set('If-Match', '"7"').send({}), 412);
    await http(t).post(`/sd-permits/${permit.id}/restore`).set(OFFICER).set('If-Match', '"1"').send({}).expect(200);
    expectErrorStatus(await http(t).post(`/sd-permits/${permit.id}/restore`).set(OFFICER).send({}), 404);
    expectErrorStatus(await http(t).post('/sd-permits/01ARZ3NDEKTSV4RRFFQ69G5FAV/restore').set(OFFICER).send({}), 404);
  });

  it('lists live and deleted records together in id order, page by page, each exactly once', async () => {
    const title = `mixed-${platform}`;
    const made = [];
    for (let i = 0; i < 7; i++) made.push(await create({ title }));
    for (const permit of made.filter((_, i) => i % 2 === 0)) await http(t).delete(`/sd-permits/${permit.id}`).set(OFFICER).expect(204);
    const seen: { id: string; deletedAt?: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: { id: string; deletedAt?: string }[]; nextCursor: string | null } } = await http(t)
        .get(`/sd-permits?deleted=include&title=${title}&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(OFFICER);
      expect(page.status).toBe(200);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.map((item) => item.id)).toEqual(made.map((permit) => permit.id));
    expect(seen.map((item) => item.deletedAt !== undefined)).toEqual(made.map((_, i) => i % 2 === 0));
    const descending = await http(t).get(`/sd-permits?deleted=only&title=${title}&sort=-id`).set(OFFICER);
    expect(descending.body.items.map((item: { id: string }) => item.id)).toEqual(
      made
        .filter((_, i) => i % 2 === 0)
        .map((permit) => permit.id)
        .reverse(),
    );
  });

  it('shows deleted records only to those who may delete them, and restores for them only', async () => {
    const permit = await create();
    await http(t).delete(`/sd-permits/${permit.id}`).set(OFFICER).expect(204);
    // The owner rule lets anyone delete records it owns, so a clerk's deleted list holds just those: none here.
    expect((await http(t).get('/sd-permits?deleted=only').set(CLERK)).body).toEqual({ items: [], nextCursor: null });
    const clerkView = await http(t).get(`/sd-permits?deleted=include&number=${permit.number}`).set(CLERK);
    expect(clerkView.body.items).toEqual([]);
    expectErrorStatus(await http(t).get('/sd-permits?deleted=only'), 401);
    expectErrorStatus(await http(t).post(`/sd-permits/${permit.id}/restore`).set(CLERK).send({}), 403);
    // Without the fee's read rule the field is left out of deleted records too.
    const forClerkLikeOfficer = asPrincipal({ id: 'deleter', permissions: ['permits:read', 'permits:delete'] });
    const listed = await http(t).get(`/sd-permits?deleted=only&number=${permit.number}`).set(forClerkLikeOfficer);
    expect(listed.body.items).toHaveLength(1);
    expect(listed.body.items[0]).not.toHaveProperty('fee');
  });

  it('refuses deleted lists and restores to a reader who may not delete, where no record could allow it', async () => {
    const file = await http(t).post('/sd-archive').send({ name: 'a.txt' }).expect(201);
    const deleter = asPrincipal({ id: 'd', permissions: ['archive:read', 'archive:delete'] });
    const reader = asPrincipal({ id: 'r', permissions: ['archive:read'] });
    await http(t).delete(`/sd-archive/${file.body.id}`).set(deleter).expect(204);
    expectErrorStatus(await http(t).get('/sd-archive?deleted=only').set(reader), 403);
    expectErrorStatus(await http(t).get('/sd-archive?deleted=include').set(reader), 403);
    expectErrorStatus(await http(t).post(`/sd-archive/${file.body.id}/restore`).set(reader).send({}), 403);
    expect((await http(t).get('/sd-archive?deleted=only').set(deleter)).body.items).toEqual([expect.objectContaining({ id: file.body.id })]);
    expectErrorStatus(await http(t).get('/sd-archive?deleted=sometimes').set(deleter), 400);
    expectErrorStatus(await http(t).post(`/sd-archive/${file.body.id}/restore`).set(deleter).send({ name: 'b.txt' }), 400);
    expectErrorStatus(await http(t).post(`/sd-archive/${file.body.id}/restore`).set(deleter).set('content-type', 'application/json').send('[]'), 400);
    expectErrorStatus(await http(t).post(`/sd-archive/${file.body.id}/restore`).set(deleter), 415);
    await http(t).post(`/sd-archive/${file.body.id}/restore`).set(deleter).send({}).expect(200);
  });

  it('lets an owner see and restore its own deleted records, and no one else’s', async () => {
    const own = await http(t)
      .post('/sd-permits')
      .set(OWNER)
      .send({ number: `O-${platform}-${++counter}`, title: 'mine' });
    expect(own.status).toBe(201);
    const other = await create({ title: 'mine' });
    await http(t).delete(`/sd-permits/${own.body.id}`).set(OWNER).expect(204);
    await http(t).delete(`/sd-permits/${other.id}`).set(OFFICER).expect(204);
    const listed = await http(t).get('/sd-permits?deleted=only&title=mine').set(OWNER);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((item: { id: string }) => item.id)).toEqual([own.body.id]);
    expectErrorStatus(await http(t).post(`/sd-permits/${other.id}/restore`).set(OWNER).send({}), 404);
    await http(t).post(`/sd-permits/${own.body.id}/restore`).set(OWNER).send({}).expect(200);
  });

  it('purges for admins only: a deleted record for good, or a live one at once', async () => {
    const deleted = await create();
    const live = await create();
    await http(t).delete(`/sd-permits/${deleted.id}`).set(OFFICER).expect(204);
    expectErrorStatus(await http(t).delete(`/sd-permits/${deleted.id}?purge=true`).set(OFFICER), 403);
    expectErrorStatus(await http(t).delete(`/sd-permits/${deleted.id}?purge=yes`).set(ADMIN), 400);
    await http(t).delete(`/sd-permits/${deleted.id}?purge=true`).set(ADMIN).expect(204);
    await http(t).delete(`/sd-permits/${live.id}?purge=true`).set(ADMIN).expect(204);
    for (const id of [deleted.id, live.id]) {
      expectErrorStatus(await http(t).post(`/sd-permits/${id}/restore`).set(OFFICER).send({}), 404);
      expectErrorStatus(await http(t).delete(`/sd-permits/${id}?purge=true`).set(ADMIN), 404);
    }
    const listed = await http(t).get('/sd-permits?deleted=include&limit=1000').set(ADMIN);
    expect(listed.body.items.map((item: { id: string }) => item.id)).not.toEqual(expect.arrayContaining([deleted.id]));
    expect(listed.body.items.map((item: { id: string }) => item.id)).not.toEqual(expect.arrayContaining([live.id]));
  });

  it('tells a purge of a live record from a soft delete, in the audit trail and the change feed', async () => {
    const repository = t.app.get<EntityRepository<SoftPermit>>(getRepositoryToken(SoftPermit));
    const abort = new AbortController();
    const feed = repository.subscribe({ signal: abort.signal });
    const soft = await create();
    const hard = await create();
    await http(t).delete(`/sd-permits/${soft.id}`).set(OFFICER).expect(204);
    await http(t).delete(`/sd-permits/${hard.id}?purge=true`).set(ADMIN).expect(204);
    const changes: EntityChange[] = [];
    while (changes.length < 4) changes.push((await feed.next()).value as EntityChange);
    abort.abort();
    const removals = changes.filter((change) => change.type === 'deleted');
    expect(removals.map(({ id, soft: restorable }) => ({ id, restorable }))).toEqual([
      { id: soft.id, restorable: true },
      { id: hard.id, restorable: undefined },
    ]);
    const trail = await t.app.get(AuditService).forRecord('sd-permits', hard.id);
    expect(trail.map((entry) => entry.action)).toEqual(['create', 'purge']);
  });

  it('keeps the grants on a record deleted softly, for its restore, and drops them with its purge', async () => {
    const acl = t.app.get(AclService);
    const permit = await create();
    await acl.grant('grantee', 'sd-permits', permit.id, ['read']);
    await http(t).delete(`/sd-permits/${permit.id}`).set(OFFICER).expect(204);
    expect(acl.grantsOn('sd-permits', permit.id)).toEqual([{ subject: 'grantee', rights: ['read'] }]);
    await http(t).delete(`/sd-permits/${permit.id}?purge=true`).set(ADMIN).expect(204);
    expect(acl.grantsOn('sd-permits', permit.id)).toEqual([]);
  });

  it('audits delete, restore and purge, and keeps the history of each', async () => {
    const permit = await create();
    await http(t).delete(`/sd-permits/${permit.id}`).set(OFFICER).expect(204);
    await http(t).post(`/sd-permits/${permit.id}/restore`).set(OFFICER).send({}).expect(200);
    await http(t).patch(`/sd-permits/${permit.id}`).set(OFFICER).send({ title: 'after restore' }).expect(200);
    await http(t).delete(`/sd-permits/${permit.id}`).set(OFFICER).expect(204);
    await http(t).delete(`/sd-permits/${permit.id}?purge=true`).set(ADMIN).expect(204);
    const trail = await t.app.get(AuditService).forRecord('sd-permits', permit.id);
    expect(trail.map((entry) => [entry.action, entry.actor, entry.version])).toEqual([
      ['create', 'admin', 1],
      ['delete', 'officer', 1],
      ['restore', 'officer', 2],
      ['update', 'officer', 3],
      ['delete', 'officer', 3],
      ['purge', 'admin', 3],
    ]);
    expect(trail[2]!.changes).toEqual({});
    const history = await http(t).get(`/sd-permits/${permit.id}/history`).set(ADMIN);
    expect(history.status).toBe(200);
    expect(history.body.fields.title.map((entry: { value: string }) => entry.value)).toEqual(['after restore', 'permit']);
    const report = await t.app.get(EntitiesMaintenance).verify();
    expect(report.problems).toEqual([]);
  });

  it('gives the repository the same: delete keeps, restore brings back, find reads deleted records on request', async () => {
    const record = await repo.create({ number: `R-${platform}-${++counter}`, title: 'from code', secret: 'kept' });
    await repo.delete(record.id);
    expect(await repo.findById(record.id)).toBeNull();
    const page = await repo.find({ where: { number: record.number }, deleted: 'only' });
    expect(page.items).toEqual([expect.objectContaining({ id: record.id, secret: 'kept', deletedAt: expect.any(String) })]);
    expect(repo.explain({ where: { number: record.number }, deleted: 'only' })).toMatch(/scan/);
    const restored = await repo.restore(record.id, { actor: 'script' });
    expect(restored).toEqual(expect.objectContaining({ id: record.id, version: 2, secret: 'kept' }));
    await expect(repo.find({ deleted: 'sometimes' as never })).rejects.toThrow(/deleted must be exclude, include or only/);
    await repo.purge(record.id);
    expect(await repo.findById(record.id)).toBeNull();
    await expect(repo.restore(record.id)).rejects.toThrow(/not found/);
  });

  it('restores and purges inside a transaction, with the same rules, all or nothing', async () => {
    const kept = await repo.create({ number: `T-${platform}-${++counter}`, title: 'kept' });
    const gone = await repo.create({ number: `T-${platform}-${++counter}`, title: 'gone' });
    await repo.delete(kept.id);
    await repo.delete(gone.id);
    const olive = { id: 'olive', permissions: ['permits:write'] };
    // The owner rule lets no one but the owner restore, and purging needs admin: the whole transaction is refused.
    await expect(repo.transaction((tx) => tx.restore(SoftPermit, kept.id, { principal: olive }))).rejects.toThrow(/not found/);
    const officer = { id: 'officer', permissions: ['permits:read', 'permits:write', 'permits:delete'] };
    await expect(
      repo.transaction((tx) => {
        tx.restore(SoftPermit, kept.id, { principal: officer });
        tx.purge(SoftPermit, gone.id, { principal: officer });
      }),
    ).rejects.toThrow(/admin/);
    expect(await repo.findById(kept.id)).toBeNull();

    const restored = await repo.transaction((tx) => {
      const record = tx.restore(SoftPermit, kept.id, { principal: officer });
      tx.purge(SoftPermit, gone.id);
      return record;
    });
    expect(restored).toEqual(expect.objectContaining({ id: kept.id, version: 2, title: 'kept' }));
    expect(await repo.findById(kept.id)).toEqual(expect.objectContaining({ id: kept.id }));
    expect((await repo.find({ where: { number: gone.number }, deleted: 'include' })).items).toEqual([]);
    await expect(t.app.get<EntityRepository<PlainNote>>(getRepositoryToken(PlainNote)).transaction((tx) => tx.restore(PlainNote, kept.id))).rejects.toThrow(
      /softDelete/,
    );
  });

  it('changes nothing for an entity without soft delete', async () => {
    const note = await http(t).post('/sd-plain').send({ text: 'final' }).expect(201);
    expectErrorStatus(await http(t).get('/sd-plain?deleted=only'), 400);
    await http(t).delete(`/sd-plain/${note.body.id}?purge=true`).expect(204);
    expect((await http(t).post(`/sd-plain/${note.body.id}/restore`).send({})).status).toBe(404);
    const plain = t.app.get<EntityRepository<PlainNote>>(getRepositoryToken(PlainNote));
    await expect(plain.find({ deleted: 'only' })).rejects.toThrow(/keeps no deleted records/);
    await expect(plain.restore(note.body.id)).rejects.toThrow(/softDelete/);
  });

  it('documents restore, purge, the deleted filter and deletedAt for the soft-delete entity only', () => {
    const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
    expect(document.paths['/sd-permits/{id}/restore']?.post?.responses).toEqual(
      expect.objectContaining({ '200': expect.anything(), '404': expect.anything(), '409': expect.anything(), '412': expect.anything() }),
    );
    expect(document.paths['/sd-permits/{id}']?.delete?.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'purge', in: 'query' })]));
    expect(document.paths['/sd-permits']?.get?.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'deleted', in: 'query', schema: expect.objectContaining({ enum: ['exclude', 'include', 'only'] }) }),
      ]),
    );
    const schemas = document.components?.schemas as Record<string, { properties: Record<string, unknown> }>;
    expect(Object.keys(schemas['SoftPermitRecord']!.properties)).toContain('deletedAt');
    expect(document.paths['/sd-plain/{id}/restore']).toBeUndefined();
    expect(document.paths['/sd-plain']?.get?.parameters?.map((parameter) => ('name' in parameter ? parameter.name : ''))).not.toContain('deleted');
    expect(Object.keys(schemas['PlainNoteRecord']!.properties)).not.toContain('deletedAt');
  });
});

describe('soft-deleted records across a restart', () => {
  it('are still there, restorable, and the store verifies clean', async () => {
    const dir = makeTempDir();
    try {
      let t = await createTestApp({ entities: [PlainNote, ArchivedFile], path: dir.path });
      let files = t.app.get<EntityRepository<ArchivedFile>>(getRepositoryToken(ArchivedFile));
      const kept = await files.create({ name: 'kept.txt' });
      await files.delete(kept.id);
      await t.close();

      t = await createTestApp({ entities: [PlainNote, ArchivedFile], path: dir.path });
      files = t.app.get(getRepositoryToken(ArchivedFile));
      expect(await files.findById(kept.id)).toBeNull();
      expect((await files.find({ deleted: 'only' })).items.map((item) => item.id)).toEqual([kept.id]);
      expect((await files.restore(kept.id)).version).toBe(2);
      expect((await t.app.get(EntitiesMaintenance).verify()).problems).toEqual([]);
      await t.close();
    } finally {
      dir.remove();
    }
  });
});
