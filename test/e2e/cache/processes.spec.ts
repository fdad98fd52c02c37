import 'reflect-metadata';
import { AclService, AuditService, type EntityEvent } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { Inspection } from '../../../sample/inspection.entity.js';
import { Permit } from '../../../sample/permit.entity.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { unique } from '../support/e2e.util.js';
import {
  ADMIN,
  assertSampleBuilt,
  call,
  permitBody,
  startPair,
  stopSample,
  ULID,
  ulidTime,
  type SampleProcess,
  type SampleResponse,
} from '../../support/sample-process.util.js';

/** The statuses of a set of answers, counted: `{ 201: 1, 409: 5 }`. */
function statusCounts(responses: readonly SampleResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of responses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

describe('two sample processes on one data directory', () => {
  let data: ReturnType<typeof makeTempDir> | undefined;
  let a: SampleProcess | undefined;
  let b: SampleProcess | undefined;

  beforeAll(async () => {
    assertSampleBuilt();
    data = makeTempDir();
    [a, b] = await startPair(data.path);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([stopSample(a), stopSample(b)]);
    data?.remove();
  }, 20_000);

  it('reads on B a permit created on A', async () => {
    const created = await call(a!, 'POST', '/permits', { user: 'alice:clerk', body: permitBody(unique('BP')) });
    expect(created.status).toBe(201);

    const read = await call(b!, 'GET', `/permits/${created.body.id}`);

    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    expect(read.etag).toBe('"1"');
  });

  it("returns A's PATCH from B's very next GET /permits/:id, though B had the permit cached", async () => {
    const created = await call(a!, 'POST', '/permits', { user: ADMIN, body: permitBody(unique('BP')) });
    const id = created.body.id as string;
    expect((await call(b!, 'GET', `/permits/${id}`)).body.version).toBe(1);
    expect((await call(b!, 'GET', `/permits/${id}`)).body.version).toBe(1);

    const patched = await call(a!, 'PATCH', `/permits/${id}`, { user: ADMIN, body: { status: 'submitted' }, headers: { 'if-match': '"1"' } });
    expect(patched.status).toBe(200);
    const next = await call(b!, 'GET', `/permits/${id}`);

    expect(next.status).toBe(200);
    expect(next.body).toEqual(expect.objectContaining({ id, status: 'submitted', version: 2 }));
    expect(next.etag).toBe('"2"');
  });

  it("returns A's PATCH from B's very next GET /permits and history, though B had them cached", async () => {
    const number = unique('BP');
    const created = await call(a!, 'POST', '/permits', { user: ADMIN, body: permitBody(number) });
    const id = created.body.id as string;
    for (let i = 0; i < 2; i++) {
      expect((await call(b!, 'GET', `/permits?number=${number}`)).body.items[0].status).toBe('draft');
      expect((await call(b!, 'GET', `/permits/${id}/history`)).body.fields.status.map((entry: { value: string }) => entry.value)).toEqual(['draft']);
    }

    expect((await call(a!, 'PATCH', `/permits/${id}`, { user: ADMIN, body: { status: 'approved' } })).status).toBe(200);

    const list = await call(b!, 'GET', `/permits?number=${number}`);
    const history = await call(b!, 'GET', `/permits/${id}/history`);
    expect(list.body.items).toEqual([expect.objectContaining({ id, status: 'approved', version: 2 })]);
    expect(history.body.fields.status.map((entry: { value: string }) => entry.value)).toEqual(['approved', 'draft']);
  });

  it('answers 404 on B at once after A deleted a permit B had cached', async () => {
    const created = await call(a!, 'POST', '/permits', { user: ADMIN, body: permitBody(unique('BP')) });
    const id = created.body.id as string;
    await call(b!, 'GET', `/permits/${id}`);
    await call(b!, 'GET', `/permits/${id}`);

    expect((await call(a!, 'DELETE', `/permits/${id}`, { user: ADMIN })).status).toBe(204);

    expect((await call(b!, 'GET', `/permits/${id}`)).status).toBe(404);
  });

  it("returns a permit changed by A's own service transaction (POST /permits/:id/approve) from B's very next GET", async () => {
    const created = await call(a!, 'POST', '/permits', { user: ADMIN, body: permitBody(unique('BP')) });
    const id = created.body.id as string;
    await call(b!, 'GET', `/permits/${id}`);
    await call(b!, 'GET', `/permits/${id}`);

    const approved = await call(a!, 'POST', `/permits/${id}/approve`, { user: ADMIN, body: { inspector: 'R. Diaz' } });
    expect(approved.status).toBe(201);

    expect((await call(b!, 'GET', `/permits/${id}`)).body).toEqual(expect.objectContaining({ id, status: 'approved', version: 2 }));
    expect((await call(b!, 'GET', `/inspections?permitId=${id}`)).body.items).toEqual([expect.objectContaining({ permitId: id, inspector: 'R. Diaz' })]);
  });

  it('shows each process the writes of the other, alternating, on every next request', async () => {
    const created = await call(a!, 'POST', '/permits', { user: ADMIN, body: permitBody(unique('BP')) });
    const id = created.body.id as string;
    let version = 1;
    for (let round = 0; round < 10; round++) {
      const [writer, reader] = round % 2 === 0 ? [a!, b!] : [b!, a!];
      await call(reader, 'GET', `/permits/${id}`);
      const patched = await call(writer, 'PATCH', `/permits/${id}`, {
        user: ADMIN,
        body: { client: `client ${round}` },
        headers: { 'if-match': `"${version}"` },
      });
      expect(patched.status).toBe(200);
      version = patched.body.version as number;
      const read = await call(reader, 'GET', `/permits/${id}`);
      expect({ round, version: read.body.version, client: read.body.client }).toEqual({ round, version, client: `client ${round}` });
    }
  });

  it('gives unique ULIDs, stamped with the time of their create, to concurrent creates with distinct numbers on both processes', async () => {
    const prefix = unique('BP');
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => call(i % 2 === 0 ? a! : b!, 'POST', '/permits', { user: 'clerk:clerk', body: permitBody(`${prefix}-${i}`) })),
    );
    const finished = Date.now();

    expect(statusCounts(responses)).toEqual({ 201: 40 });
    const ids = responses.map(({ body }) => body.id as string);
    expect(new Set(ids).size).toBe(40);
    for (const id of ids) {
      expect(id).toMatch(ULID);
      expect(ulidTime(id)).toBeGreaterThanOrEqual(started);
      expect(ulidTime(id)).toBeLessThanOrEqual(finished);
    }
    const listed = await call(b!, 'GET', `/permits?number[prefix]=${prefix}-&limit=100`);
    expect(listed.body.items.map((item: { id: string }) => item.id)).toEqual([...ids].sort());
  });

  it('lists permits created one after another, alternating processes, in creation order', async () => {
    const prefix = unique('BP');
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const created = await call(i % 2 === 0 ? a! : b!, 'POST', '/permits', {
        user: 'clerk:clerk',
        body: permitBody(`${prefix}-${String(i).padStart(2, '0')}`),
      });
      expect(created.status).toBe(201);
      ids.push(created.body.id as string);
    }

    const listed = await call(a!, 'GET', `/permits?number[prefix]=${prefix}-&limit=100`);

    expect(listed.body.items.map((item: { number: string }) => item.number)).toEqual(
      Array.from({ length: 30 }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`),
    );
    expect([...ids].sort()).toEqual(ids);
  });

  it('lets exactly one of concurrent creates of the same permit number succeed across both processes; the rest get 409', async () => {
    for (let round = 0; round < 5; round++) {
      const number = unique('BP-SAME');
      const responses = await Promise.all(
        Array.from({ length: 6 }, (_, i) => call(i % 2 === 0 ? a! : b!, 'POST', '/permits', { user: 'clerk:clerk', body: permitBody(number, `client ${i}`) })),
      );

      expect({ round, statuses: statusCounts(responses) }).toEqual({ round, statuses: { 201: 1, 409: 5 } });
      const winner = responses.find(({ status }) => status === 201)!;
      for (const sample of [a!, b!]) {
        const listed = await call(sample, 'GET', `/permits?number=${number}`);
        expect(listed.body.items).toEqual([winner.body]);
      }
    }
  });

  it('lets exactly one of concurrent PATCHes with the same If-Match succeed across both processes; the rest get 412', async () => {
    const created = await call(a!, 'POST', '/permits', { user: ADMIN, body: permitBody(unique('BP')) });
    const id = created.body.id as string;

    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call(i % 2 === 0 ? a! : b!, 'PATCH', `/permits/${id}`, { user: ADMIN, body: { client: `racer ${i}` }, headers: { 'if-match': '"1"' } }),
      ),
    );

    expect(statusCounts(responses)).toEqual({ 200: 1, 412: 5 });
    const winner = responses.find(({ status }) => status === 200)!;
    for (const sample of [a!, b!]) expect((await call(sample, 'GET', `/permits/${id}`)).body).toEqual(winner.body);
  });
});

describe('the data directory after two sample processes wrote to it at once', () => {
  const permitDefinitions = () => [createEntityDefinition(Permit), createEntityDefinition(Inspection)];

  it('holds a gap-free event log with one event per acknowledged write, and verifies clean', async () => {
    assertSampleBuilt();
    const data = makeTempDir();
    let a: SampleProcess | undefined;
    let b: SampleProcess | undefined;
    let storage: EntityStorage | undefined;
    try {
      [a, b] = await startPair(data.path);
      const both = [a, b];
      const acknowledged: SampleResponse[] = [];
      const prefix = unique('BP-LOG');

      const creates = await Promise.all(
        Array.from({ length: 24 }, (_, i) => call(both[i % 2]!, 'POST', '/permits', { user: `clerk${i % 3}:clerk`, body: permitBody(`${prefix}-${i % 16}`) })),
      );
      expect(statusCounts(creates)).toEqual({ 201: 16, 409: 8 });
      acknowledged.push(...creates.filter(({ status }) => status === 201));
      const ids = creates.filter(({ status }) => status === 201).map(({ body }) => body.id as string);

      const patches = await Promise.all(
        ids.flatMap((id, i) => [0, 1].map((j) => call(both[(i + j) % 2]!, 'PATCH', `/permits/${id}`, { user: ADMIN, body: { client: `client ${i}.${j}` } }))),
      );
      expect(statusCounts(patches)).toEqual({ 200: 32 });
      acknowledged.push(...patches);

      const deletes = await Promise.all(ids.slice(0, 4).map((id, i) => call(both[i % 2]!, 'DELETE', `/permits/${id}`, { user: ADMIN })));
      expect(statusCounts(deletes)).toEqual({ 204: 4 });
      acknowledged.push(...deletes);

      await Promise.all([stopSample(a), stopSample(b)]);

      const environment = new LmdbEnvironment(data.path);
      storage = new EntityStorage(environment, {}, [new AuditService(environment)], [new AclService(environment)]);
      for (const definition of permitDefinitions()) storage.register(definition);
      await storage.open();

      const events: EntityEvent[] = storage.events(0, 1e6);
      expect(events.map(({ seq }) => seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
      expect(events).toHaveLength(acknowledged.length);
      const types: Record<string, number> = {};
      for (const { type } of events) types[type] = (types[type] ?? 0) + 1;
      expect(types).toEqual({ created: 16, updated: 32, deleted: 4 });
      for (const id of ids) {
        const versions = events.filter((event) => event.id === id && event.type !== 'deleted').map(({ version }) => version);
        expect({ id, versions }).toEqual({ id, versions: [1, 2, 3] });
      }
      const report = storage.verify();
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.checked.records).toBe(12);
    } finally {
      await storage?.close();
      await Promise.all([stopSample(a), stopSample(b)]);
      data.remove();
    }
  }, 60_000);
});
