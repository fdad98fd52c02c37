import { startPair, stopSample, call, type SampleProcess } from '../../support/sample-process.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

describe('grants shared by two processes on one data directory', () => {
  const data = makeTempDir();
  let a: SampleProcess | undefined;
  let b: SampleProcess | undefined;

  beforeAll(async () => {
    [a, b] = await startPair(data.path);
  }, 45_000);

  afterAll(async () => {
    await Promise.all([stopSample(a), stopSample(b)]);
    data.remove();
  }, 15_000);

  it('sees a grant added and removed in process A on the very next request in process B', async () => {
    const admin = 'root:admin';
    const created = await call(a!, 'POST', '/permits', { user: admin, body: { number: 'BP-2P-0001', client: 'Acme', county: 'Travis' } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    // B answers first without the grant, so any decision it caches is the stale one.
    const before = await call(b!, 'PATCH', `/permits/${id}`, { user: 'bob', body: { status: 'submitted' } });
    expect(before.status).toBe(403);

    const granted = await call(a!, 'POST', `/permits/${id}/grants`, { user: admin, body: { subject: 'bob', rights: ['update'] } });
    expect(granted.status).toBe(201);
    expect(granted.body).toEqual({ subject: 'bob', rights: ['update'] });

    const allowed = await call(b!, 'PATCH', `/permits/${id}`, { user: 'bob', body: { status: 'submitted' } });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toEqual(expect.objectContaining({ id, status: 'submitted', version: 2 }));

    const removed = await call(a!, 'DELETE', `/permits/${id}/grants/bob`, { user: admin });
    expect(removed.status).toBe(204);

    // Reading permits is open to all, so bob may read the record but no longer change it: 403, not 404.
    const refused = await call(b!, 'PATCH', `/permits/${id}`, { user: 'bob', body: { status: 'approved' } });
    expect(refused.status).toBe(403);
    const now = await call(a!, 'GET', `/permits/${id}`, { user: admin });
    expect(now.body).toEqual(expect.objectContaining({ status: 'submitted', version: 2 }));
  });
});
