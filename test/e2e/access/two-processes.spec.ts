import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../../support/temp-dir.util.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SAMPLE_MAIN = join(ROOT, 'sample', 'dist', 'main.js');
const HOST = '127.0.0.1';
const STARTUP_MS = 20_000;

/** One running copy of the compiled sample app. */
interface SampleProcess {
  name: string;
  child: ChildProcess;
  base: string;
  output: () => string;
}

/** A TCP port nobody listens on right now, on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function startSample(name: string, dataPath: string, platform: 'express' | 'fastify'): Promise<SampleProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [SAMPLE_MAIN], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST, DATA_PATH: dataPath, PLATFORM: platform, NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const sample = { name, child, base: `http://${HOST}:${port}`, output: () => output };
  const deadline = Date.now() + STARTUP_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sample ${name} exited with ${child.exitCode} before answering:\n${output}`);
    try {
      const response = await fetch(`${sample.base}/permits`);
      if (response.status === 200) return sample;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`sample ${name} did not answer GET /permits within ${STARTUP_MS} ms:\n${output}`);
}

async function stopSample(sample: SampleProcess | undefined): Promise<void> {
  const child = sample?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A JSON request to one process as `user` (`X-User: <id>:<role,role>`). */
async function call(sample: SampleProcess, method: string, path: string, user: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${sample.base}${path}`, {
    method,
    headers: { 'x-user': user, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

describe('grants shared by two processes on one data directory', () => {
  const data = makeTempDir();
  let a: SampleProcess | undefined;
  let b: SampleProcess | undefined;

  beforeAll(async () => {
    if (!existsSync(SAMPLE_MAIN)) {
      throw new Error(`${SAMPLE_MAIN} is missing: build the sample first (npm run build && npm run build:sample, or npm test, whose pretest does it)`);
    }
    try {
      [a, b] = await Promise.all([startSample('A', data.path, 'express'), startSample('B', data.path, 'fastify')]);
    } catch (error) {
      await Promise.all([stopSample(a), stopSample(b)]);
      throw error;
    }
  }, 45_000);

  afterAll(async () => {
    await Promise.all([stopSample(a), stopSample(b)]);
    data.remove();
  }, 15_000);

  it("sees a grant added and removed in process A on the very next request in process B", async () => {
    const admin = 'root:admin';
    const created = await call(a!, 'POST', '/permits', admin, { number: 'BP-2P-0001', client: 'Acme', county: 'Travis' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    // B answers first without the grant, so any decision it caches is the stale one.
    const before = await call(b!, 'PATCH', `/permits/${id}`, 'bob', { status: 'submitted' });
    expect(before.status).toBe(403);

    const granted = await call(a!, 'POST', `/permits/${id}/grants`, admin, { subject: 'bob', rights: ['update'] });
    expect(granted.status).toBe(201);
    expect(granted.body).toEqual({ subject: 'bob', rights: ['update'] });

    const allowed = await call(b!, 'PATCH', `/permits/${id}`, 'bob', { status: 'submitted' });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toEqual(expect.objectContaining({ id, status: 'submitted', version: 2 }));

    const removed = await call(a!, 'DELETE', `/permits/${id}/grants/bob`, admin);
    expect(removed.status).toBe(204);

    // Reading permits is open to all, so bob may read the record but no longer change it: 403, not 404.
    const refused = await call(b!, 'PATCH', `/permits/${id}`, 'bob', { status: 'approved' });
    expect(refused.status).toBe(403);
    const now = await call(a!, 'GET', `/permits/${id}`, admin);
    expect(now.body).toEqual(expect.objectContaining({ status: 'submitted', version: 2 }));
  });
});
