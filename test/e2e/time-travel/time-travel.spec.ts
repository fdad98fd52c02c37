import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  AuditService,
  Audited,
  EntitiesMaintenance,
  Entity,
  EntityRepository,
  Field,
  getRepositoryToken,
  Index,
  PastStateGoneException,
  Permission,
} from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { asPrincipal, expectErrorStatus, http, principalFromHeader } from '../support/e2e.util.js';

@Entity({ name: 'tt-permits', softDelete: true })
@Permission({ read: 'permits:read', create: 'permits:write', update: 'permits:write', delete: 'permits:write', history: 'permits:history' })
@Audited()
class TtPermit {
  @Field() @Index({ unique: true }) number!: string;
  @Field() status!: string;
  @Field({ required: false, hidden: true }) secret?: string;
  @Field({ required: false }) @Permission({ read: 'permits:fees', write: 'permits:fees' }) fee?: number;
}

const EDITOR = asPrincipal({ id: 'editor', permissions: ['permits:*'] });
/** Reads and writes, but may not read past states. */
const CLERK = asPrincipal({ id: 'clerk', permissions: ['permits:read', 'permits:write'] });
/** Reads the past, but not the fee. */
const AUDITOR = asPrincipal({ id: 'auditor', permissions: ['permits:read', 'permits:write', 'permits:history'] });

const tick = () => new Promise((resolve) => setTimeout(resolve, 3));

describe.each(PLATFORMS)('records as they were, on %s', (platform) => {
  let t: TestApp;
  let counter = 0;

  beforeAll(async () => {
    t = await createTestApp({ entities: [TtPermit], platform, module: { getPrincipal: principalFromHeader } });
  });
  afterAll(() => t.close());

  /** A permit at three versions: draft (v1), approved (v2), approved with a fee (v3); each step a few ms apart. */
  async function threeVersions() {
    const v1 = (
      await http(t)
        .post('/tt-permits')
        .set(EDITOR)
        .send({ number: `T-${platform}-${++counter}`, status: 'draft', secret: 's1' })
        .expect(201)
    ).body;
    await tick();
    const v2 = (await http(t).patch(`/tt-permits/${v1.id}`).set(EDITOR).send({ status: 'approved', secret: 's2' }).expect(200)).body;
    await tick();
    const v3 = (await http(t).patch(`/tt-permits/${v1.id}`).set(EDITOR).send({ fee: 40 }).expect(200)).body;
    return { id: v1.id as string, v1, v2, v3 };
  }

  it('answers the record at each version, and 404 past the last one', async () => {
    const { id, v1, v2, v3 } = await threeVersions();
    for (const [version, state] of [
      [1, v1],
      [2, v2],
      [3, v3],
    ] as const) {
      const response = await http(t).get(`/tt-permits/${id}?version=${version}`).set(EDITOR);
      expect(response.status).toBe(200);
      expect(response.body).toEqual(state);
    }
    expect((await http(t).get(`/tt-permits/${id}?version=1`).set(EDITOR)).body).not.toHaveProperty('secret');
    expectErrorStatus(await http(t).get(`/tt-permits/${id}?version=4`).set(EDITOR), 404);
    expectErrorStatus(await http(t).get(`/tt-permits/${id}?version=0`).set(EDITOR), 400);
    expectErrorStatus(await http(t).get(`/tt-permits/${id}?version=two`).set(EDITOR), 400);
    expectErrorStatus(await http(t).get(`/tt-permits/${id}?version=1&asOf=${v1.createdAt}`).set(EDITOR), 400);
    expectErrorStatus(await http(t).get(`/tt-permits/01ARZ3NDEKTSV4RRFFQ69G5FAV?version=1`).set(EDITOR), 404);
  });

  it('answers the record as it was at a time, and 404 before it existed', async () => {
    const { id, v1, v2, v3 } = await threeVersions();
    const at = async (time: string) =>
      http(t)
        .get(`/tt-permits/${id}?asOf=${encodeURIComponent(time)}`)
        .set(EDITOR);
    expect((await at(v1.updatedAt)).body).toEqual(v1);
    expect((await at(v2.updatedAt)).body).toEqual(v2);
    expect((await at(new Date(Date.parse(v3.updatedAt) - 1).toISOString())).body).toEqual(v2);
    expect((await at('2999-01-01T00:00:00Z')).body).toEqual(v3);
    expectErrorStatus(await at(new Date(Date.parse(v1.createdAt) - 1).toISOString()), 404);
    expectErrorStatus(await at('yesterday'), 400);
  });

  it('needs the history permission, and leaves out fields the caller may not read', async () => {
    const { id } = await threeVersions();
    expectErrorStatus(await http(t).get(`/tt-permits/${id}?version=1`).set(CLERK), 403);
    expectErrorStatus(await http(t).get(`/tt-permits/${id}/diff?from=1&to=3`).set(CLERK), 403);
    expect((await http(t).get(`/tt-permits/${id}`).set(CLERK)).status).toBe(200);
    const past = await http(t).get(`/tt-permits/${id}?version=3`).set(AUDITOR);
    expect(past.status).toBe(200);
    expect(past.body).not.toHaveProperty('fee');
    const diff = await http(t).get(`/tt-permits/${id}/diff?from=1&to=3`).set(AUDITOR);
    expect(diff.body).toEqual({ id, from: 1, to: 3, changes: { status: { from: 'draft', to: 'approved' } } });
  });

  it('lists what changed between two versions, either way round', async () => {
    const { id } = await threeVersions();
    const diff = await http(t).get(`/tt-permits/${id}/diff?from=1&to=3`).set(EDITOR);
    expect(diff.status).toBe(200);
    expect(diff.body).toEqual({ id, from: 1, to: 3, changes: { status: { from: 'draft', to: 'approved' }, fee: { from: null, to: 40 } } });
    expect((await http(t).get(`/tt-permits/${id}/diff?from=3&to=2`).set(EDITOR)).body.changes).toEqual({ fee: { from: 40, to: null } });
    expect((await http(t).get(`/tt-permits/${id}/diff?from=2&to=2`).set(EDITOR)).body.changes).toEqual({});
    expect((await http(t).get(`/tt-permits/${id}/diff`).set(EDITOR)).body).toEqual({ id, from: 2, to: 3, changes: { fee: { from: null, to: 40 } } });
    expect((await http(t).get(`/tt-permits/${id}/diff?from=1`).set(EDITOR)).body.to).toBe(3);
    expectErrorStatus(await http(t).get(`/tt-permits/${id}/diff?from=x`).set(EDITOR), 400);
    // A misspelt or repeated parameter is refused, not answered as if it were absent or by its first value.
    expect(expectErrorStatus(await http(t).get(`/tt-permits/${id}/diff?form=1`).set(EDITOR), 400)).toBe(
      'unknown query parameter form: the diff takes only from and to',
    );
    expect(expectErrorStatus(await http(t).get(`/tt-permits/${id}/diff?from=1&from=2`).set(EDITOR), 400)).toBe('query parameter from is repeated');
    expectErrorStatus(await http(t).get(`/tt-permits/${id}/diff?from=1&to=9`).set(EDITOR), 404);
  });

  it('reverts to a version as a new one, audited as a replace, keeping what the caller may not write', async () => {
    const { id, v1 } = await threeVersions();
    expectErrorStatus(await http(t).post(`/tt-permits/${id}/revert`).set(EDITOR).set('If-Match', '"2"').send({ toVersion: 1 }), 412);
    expectErrorStatus(await http(t).post(`/tt-permits/${id}/revert`).set(EDITOR).send({ toVersion: 'one' }), 400);
    expectErrorStatus(await http(t).post(`/tt-permits/${id}/revert`).set(EDITOR).send({ toVersion: 1, status: 'x' }), 400);
    expectErrorStatus(await http(t).post(`/tt-permits/${id}/revert`).set(EDITOR).send({ toVersion: 9 }), 404);
    expectErrorStatus(await http(t).post(`/tt-permits/${id}/revert`).set(CLERK).send({ toVersion: 1 }), 403);

    // The auditor may not write the fee: reverting to version 1 keeps the fee of 40.
    const byAuditor = await http(t).post(`/tt-permits/${id}/revert`).set(AUDITOR).send({ toVersion: 1 });
    expect(byAuditor.status).toBe(200);
    expect(byAuditor.headers.etag).toBe('"4"');
    expect(byAuditor.body).toEqual(expect.objectContaining({ status: 'draft', version: 4 }));
    const repo = t.app.get<EntityRepository<TtPermit>>(getRepositoryToken(TtPermit));
    expect(await repo.findById(id)).toEqual(expect.objectContaining({ status: 'draft', fee: 40, secret: 's1', version: 4 }));

    const byEditor = await http(t).post(`/tt-permits/${id}/revert`).set(EDITOR).set('If-Match', '"4"').send({ toVersion: 1 });
    expect(byEditor.body).toEqual({ ...v1, version: 5, updatedAt: expect.any(String) });
    const trail = await t.app.get(AuditService).forRecord('tt-permits', id);
    expect(trail.map((entry) => entry.action)).toEqual(['create', 'update', 'update', 'denied', 'replace', 'replace']);

    // A revert is a new version even when it changes nothing, unlike a PUT of the same values.
    const again = await http(t).post(`/tt-permits/${id}/revert`).set(EDITOR).set('If-Match', '"5"').send({ toVersion: 5 });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...v1, version: 6, updatedAt: expect.any(String) });
  });

  it('reads the past of a soft-deleted record for those who may read every record’s history', async () => {
    const { id, v2 } = await threeVersions();
    await http(t).delete(`/tt-permits/${id}`).set(EDITOR).expect(204);
    expectErrorStatus(await http(t).get(`/tt-permits/${id}`).set(EDITOR), 404);
    expect((await http(t).get(`/tt-permits/${id}?version=2`).set(EDITOR)).body).toEqual(v2);
    expectErrorStatus(await http(t).post(`/tt-permits/${id}/revert`).set(EDITOR).send({ toVersion: 2 }), 404);
  });

  it('documents version, asOf, the diff and the revert, with their 410', () => {
    const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
    const findOne = document.paths['/tt-permits/{id}']?.get;
    expect(findOne?.parameters?.map((parameter) => ('name' in parameter ? parameter.name : ''))).toEqual(expect.arrayContaining(['version', 'asOf']));
    expect(Object.keys(findOne?.responses ?? {})).toEqual(expect.arrayContaining(['200', '404', '410']));
    expect(Object.keys(document.paths['/tt-permits/{id}/diff']?.get?.responses ?? {})).toEqual(expect.arrayContaining(['200', '404', '410']));
    expect(Object.keys(document.paths['/tt-permits/{id}/revert']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['200', '404', '409', '410', '412']));
  });
});

describe('records as they were, once the log is trimmed', () => {
  it('answer 410 for states the retention policy dropped, and the current one still', async () => {
    const t = await createTestApp({ entities: [TtPermit], module: { eventRetention: { maxEvents: 3 }, getPrincipal: principalFromHeader } });
    try {
      const repo = t.app.get<EntityRepository<TtPermit>>(getRepositoryToken(TtPermit));
      const permit = await repo.create({ number: 'R-1', status: 's1' });
      for (const status of ['s2', 's3', 's4', 's5']) await repo.update(permit.id, { status });
      await t.app.get(EntitiesMaintenance).runMaintenance();
      await expect(repo.findAt(permit.id, { version: 1 })).rejects.toThrow(PastStateGoneException);
      const gone = await http(t).get(`/tt-permits/${permit.id}?version=2`).set(EDITOR);
      expectErrorStatus(gone, 410);
      expect((await repo.findAt(permit.id, { version: 5 }))?.status).toBe('s5');
      expect((await t.app.get(EntitiesMaintenance).verify()).problems).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
