import {
  AclService,
  Audited,
  AuditService,
  Entity,
  EntityRepository,
  Field,
  getRepositoryToken,
  Permission,
  type AuditEntry,
  type Principal,
} from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { expectNestError, http, ISO_TIMESTAMP, principalFromHeader, unique } from '../support/e2e.util.js';
import { as, missingId } from './access.util.js';

@Entity('docs')
@Permission({ read: 'docs:read', create: 'docs:create', update: 'docs:update', delete: 'docs:delete' })
@Audited()
class AuditedDoc {
  @Field() title!: string;
  @Field({ required: false })
  @Permission({ write: 'docs:admin' })
  stamp?: string;
}

@Entity('memos')
@Permission({ read: 'memos:read', update: 'memos:update', delete: 'memos:delete', owner: 'ownerId' })
@Audited()
class AuditedMemo {
  @Field() title!: string;
  @Field({ required: false }) ownerId?: string;
}

/** Only `read` has a rule: deleting needs the default 'ledgers:delete'. */
@Entity('ledgers')
@Permission({ read: 'ledgers:read' })
@Audited()
class AuditedLedger {
  @Field() entry!: string;
}

/** Purging and grants need 'drafts:admin', which the deleter lacks. */
@Entity({ name: 'drafts', softDelete: true })
@Permission({ read: 'drafts:read', delete: 'drafts:delete' })
@Audited()
class AuditedDraft {
  @Field() title!: string;
}

const AUDITOR: Principal = { id: 'auditor', permissions: ['docs:read', 'docs:update', 'memos:read', 'memos:update'] };

describe.each(PLATFORMS)('the audit of refused writes on %s', (platform) => {
  let t: TestApp;
  let audit: AuditService;
  let acl: AclService;
  let docs: EntityRepository<AuditedDoc>;
  let memos: EntityRepository<AuditedMemo>;
  let ledgers: EntityRepository<AuditedLedger>;
  let drafts: EntityRepository<AuditedDraft>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [AuditedDoc, AuditedMemo, AuditedLedger, AuditedDraft], platform, module: { getPrincipal: principalFromHeader } });
    audit = t.app.get(AuditService);
    acl = t.app.get(AclService);
    docs = t.app.get(getRepositoryToken(AuditedDoc));
    memos = t.app.get(getRepositoryToken(AuditedMemo));
    ledgers = t.app.get(getRepositoryToken(AuditedLedger));
    drafts = t.app.get(getRepositoryToken(AuditedDraft));
  });

  afterAll(async () => {
    await t?.close();
  });

  /** The entries of `entity` that name this record id, through `AuditService.find({ entity })`. */
  async function entriesOf(entity: string, id: string): Promise<AuditEntry[]> {
    const found: AuditEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await audit.find({ entity, limit: 1000, ...(cursor !== undefined && { cursor }) });
      found.push(...page.items.filter((entry) => entry.id === id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return found;
  }

  function denial(entity: string, id: string, route: string, actor?: string) {
    return expect.objectContaining({
      entity,
      id,
      action: 'denied',
      at: expect.stringMatching(ISO_TIMESTAMP),
      request: expect.objectContaining({ route }),
      ...(actor !== undefined && { actor }),
    });
  }

  it('records a write refused with 403 for lacking the permission, with the principal as actor and the route', async () => {
    const { id } = await docs.create({ title: 'seed' });
    const actor = unique('lacking');
    expectNestError(
      await http(t)
        .patch(`/docs/${id}`)
        .set(as({ id: actor }))
        .send({ title: 'x' }),
      403,
    );
    expectNestError(
      await http(t)
        .delete(`/docs/${id}`)
        .set(as({ id: actor })),
      403,
    );
    const entries = await entriesOf('docs', id);
    expect(entries).toEqual([
      expect.objectContaining({ action: 'create' }),
      denial('docs', id, `PATCH /docs/${id}`, actor),
      denial('docs', id, `DELETE /docs/${id}`, actor),
    ]);
    expect((await audit.find({ entity: 'docs', actor })).items).toHaveLength(2);
  });

  it('stores the route pattern, not the path, for an id no record can have: anyone may be refused, so an entry stays small', async () => {
    const actor = unique('long-id');
    // Fastify's router answers 414 itself past its maxParamLength (100), before any refusal.
    const long = 'x'.repeat(platform === 'fastify' ? 99 : 5000) + '!';
    expectNestError(
      await http(t)
        .patch(`/docs/${long}`)
        .set(as({ id: actor }))
        .send({ title: 'x' }),
      403,
    );
    const [entry] = (await audit.find({ entity: 'docs', actor })).items;
    expect(entry).toEqual(denial('docs', '', 'PATCH /docs/:id', actor));
  });

  it('records a write refused with 401 with no actor', async () => {
    const { id } = await docs.create({ title: 'seed' });
    expectNestError(await http(t).put(`/docs/${id}`).send({ title: 'x' }), 401);
    const entries = await entriesOf('docs', id);
    expect(entries).toEqual([expect.objectContaining({ action: 'create' }), denial('docs', id, `PUT /docs/${id}`)]);
    expect(entries[1]).not.toHaveProperty('actor');
  });

  it('answers every key of an entry over HTTP: actor null for an anonymous write, version null for a refused one', async () => {
    const { id } = await docs.create({ title: 'seed' });
    expectNestError(await http(t).put(`/docs/${id}`).send({ title: 'x' }), 401);
    const trail = await http(t).get(`/docs/${id}/audit`).set(as(AUDITOR)).expect(200);
    expect(trail.body.items).toEqual([
      expect.objectContaining({ action: 'create', actor: null, version: 1 }),
      expect.objectContaining({ action: 'denied', actor: null, version: null, changes: {} }),
    ]);
  });

  it('records a write refused with 404 because the grantee may not see the record', async () => {
    const granted = await docs.create({ title: 'granted' });
    const hidden = await docs.create({ title: 'hidden' });
    const grantee = unique('grantee');
    await acl.grant(grantee, 'docs', granted.id, ['read']);
    expectNestError(
      await http(t)
        .patch(`/docs/${hidden.id}`)
        .set(as({ id: grantee }))
        .send({ title: 'x' }),
      404,
    );
    expect(await entriesOf('docs', hidden.id)).toEqual([
      expect.objectContaining({ action: 'create' }),
      denial('docs', hidden.id, `PATCH /docs/${hidden.id}`, grantee),
    ]);
    expect((await docs.findById(hidden.id))?.version).toBe(1);
  });

  it('records a revert refused with 404 because the grantee may not see the record, worded as for a missing one', async () => {
    const granted = await docs.create({ title: 'granted' });
    const hidden = await docs.create({ title: 'v1' });
    await docs.update(hidden.id, { title: 'v2' });
    const grantee = unique('grantee');
    await acl.grant(grantee, 'docs', granted.id, ['read', 'update']);
    const refused = await http(t)
      .post(`/docs/${hidden.id}/revert`)
      .set(as({ id: grantee }))
      .send({ toVersion: 1 });
    expectNestError(refused, 404);
    const absent = missingId();
    const missing = await http(t)
      .post(`/docs/${absent}/revert`)
      .set(as({ id: grantee }))
      .send({ toVersion: 1 });
    expect(refused.body.message).toBe(missing.body.message.replace(absent, hidden.id));
    expect(await entriesOf('docs', hidden.id)).toEqual([
      expect.objectContaining({ action: 'create' }),
      expect.objectContaining({ action: 'update' }),
      denial('docs', hidden.id, `POST /docs/${hidden.id}/revert`, grantee),
    ]);
    expect((await docs.findById(hidden.id))?.version).toBe(2);
  });

  it('records a write refused with 403 because the grantee may read the record but not change it', async () => {
    const { id } = await docs.create({ title: 'seed' });
    const grantee = unique('grantee');
    await acl.grant(grantee, 'docs', id, ['read']);
    expectNestError(
      await http(t)
        .delete(`/docs/${id}`)
        .set(as({ id: grantee })),
      403,
    );
    expect(await entriesOf('docs', id)).toEqual([expect.objectContaining({ action: 'create' }), denial('docs', id, `DELETE /docs/${id}`, grantee)]);
  });

  it("records a write refused with 404 on another owner's record", async () => {
    const { id } = await memos.create({ title: 'theirs', ownerId: 'someone' });
    const intruder = unique('intruder');
    expectNestError(
      await http(t)
        .put(`/memos/${id}`)
        .set(as({ id: intruder }))
        .send({ title: 'x' }),
      404,
    );
    expect(await entriesOf('memos', id)).toEqual([expect.objectContaining({ action: 'create' }), denial('memos', id, `PUT /memos/${id}`, intruder)]);
  });

  it('records a write refused with 403 for setting a field the principal may not write', async () => {
    const { id } = await docs.create({ title: 'seed' });
    const editor = { id: unique('editor'), permissions: ['docs:update'] };
    expectNestError(await http(t).patch(`/docs/${id}`).set(as(editor)).send({ stamp: 'forged' }), 403);
    expect(await entriesOf('docs', id)).toEqual([expect.objectContaining({ action: 'create' }), denial('docs', id, `PATCH /docs/${id}`, editor.id)]);
  });

  it('records a delete refused because the entity has no delete rule, and keeps the record', async () => {
    const { id } = await ledgers.create({ entry: 'seed' });
    const reader = unique('reader');
    expectNestError(await http(t).delete(`/ledgers/${id}`), 401);
    expectNestError(
      await http(t)
        .delete(`/ledgers/${id}`)
        .set(as({ id: reader, permissions: ['ledgers:read'] })),
      403,
    );
    expect(await entriesOf('ledgers', id)).toEqual([
      expect.objectContaining({ action: 'create' }),
      denial('ledgers', id, `DELETE /ledgers/${id}`),
      denial('ledgers', id, `DELETE /ledgers/${id}`, reader),
    ]);
    expect(await ledgers.findById(id)).toEqual(expect.objectContaining({ version: 1 }));
  });

  it("records an intruder's delete of another owner's record, and not the owner's own delete", async () => {
    const { id } = await memos.create({ title: 'theirs', ownerId: 'owner-1' });
    const intruder = unique('intruder');
    expectNestError(
      await http(t)
        .delete(`/memos/${id}`)
        .set(as({ id: intruder })),
      404,
    );
    expect(
      (
        await http(t)
          .delete(`/memos/${id}`)
          .set(as({ id: 'owner-1' }))
      ).status,
    ).toBe(204);
    expect(await entriesOf('memos', id)).toEqual([
      expect.objectContaining({ action: 'create' }),
      denial('memos', id, `DELETE /memos/${id}`, intruder),
      expect.objectContaining({ action: 'delete', actor: 'owner-1' }),
    ]);
  });

  it('records a refused create with the principal and the route', async () => {
    const actor = unique('lacking');
    expectNestError(
      await http(t)
        .post('/docs')
        .set(as({ id: actor }))
        .send({ title: 'x' }),
      403,
    );
    expectNestError(
      await http(t)
        .post('/docs/batch')
        .set(as({ id: actor }))
        .send([{ title: 'x' }]),
      403,
    );
    const entries = (await audit.find({ entity: 'docs', actor })).items;
    expect(entries).toEqual([
      expect.objectContaining({ action: 'denied', actor, entity: 'docs', request: expect.objectContaining({ route: 'POST /docs' }) }),
      expect.objectContaining({ action: 'denied', actor, entity: 'docs', request: expect.objectContaining({ route: 'POST /docs/batch' }) }),
    ]);
  });

  it('records a refused purge and refused grant changes, writes under the admin right, and no refused read of the grants', async () => {
    const { id } = await drafts.create({ title: 'seed' });
    const deleter = as({ id: unique('deleter'), permissions: ['drafts:read', 'drafts:delete'] });
    expectNestError(await http(t).delete(`/drafts/${id}?purge=true`).set(deleter), 403);
    expectNestError(
      await http(t)
        .post(`/drafts/${id}/grants`)
        .set(deleter)
        .send({ subject: 'someone', rights: ['read'] }),
      403,
    );
    expectNestError(await http(t).delete(`/drafts/${id}/grants/someone`).set(deleter), 403);
    expectNestError(await http(t).get(`/drafts/${id}/grants`).set(deleter), 403);
    expect(await entriesOf('drafts', id)).toEqual([
      expect.objectContaining({ action: 'create' }),
      denial('drafts', id, `DELETE /drafts/${id}`),
      denial('drafts', id, `POST /drafts/${id}/grants`),
      denial('drafts', id, `DELETE /drafts/${id}/grants/someone`),
    ]);
    expect(await drafts.findById(id)).toEqual(expect.objectContaining({ version: 1 }));
  });

  it('shows denials in GET /docs/:id/audit to a principal allowed to read the trail', async () => {
    const { id } = await docs.create({ title: 'seed' });
    const actor = unique('lacking');
    await http(t)
      .patch(`/docs/${id}`)
      .set(as({ id: actor }))
      .send({ title: 'x' });
    const trail = await http(t).get(`/docs/${id}/audit`).set(as(AUDITOR));
    expect(trail.status).toBe(200);
    expect(trail.body.items).toEqual([
      expect.objectContaining({ action: 'create', version: 1 }),
      expect.objectContaining({ action: 'denied', actor, changes: {}, request: expect.objectContaining({ route: `PATCH /docs/${id}` }) }),
    ]);
  });

  it('answers 404 for the audit trail of an id that never existed, even after a refused write named it', async () => {
    const id = missingId();
    expectNestError(await http(t).patch(`/docs/${id}`).send({ title: 'x' }), 401);
    expectNestError(await http(t).get(`/docs/${id}/audit`).set(as(AUDITOR)), 404);
  });
});
