import 'reflect-metadata';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createApp } from '../../../examples/helmet.js';
import { JwtAppModule } from '../../../examples/jwt-principal.js';
import { ADMIN, assertSampleBuilt, call, permitBody, stopSample, type SampleProcess } from '../../support/sample-process.util.js';
import { withSampleStore } from '../../support/sample-store.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { PLATFORMS, type Platform } from '../../support/test-app.util.js';

type TempDir = ReturnType<typeof makeTempDir>;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Boots an example's module in-process on `platform`, ready for supertest. */
async function boot(module: Parameters<typeof NestFactory.create>[0], platform: Platform): Promise<INestApplication> {
  const adapter = platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(module, adapter, { logger: false });
  await app.init();
  if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return app;
}

describe('README: the integration examples as quoted', () => {
  const quoted = [
    ...readdirSync(join(ROOT, 'examples'))
      .filter((name) => name.endsWith('.ts'))
      .map((name) => `examples/${name}`),
    'sample/cluster.ts',
  ];

  it.each(quoted)('quotes %s whole, as the file is', (path) => {
    const marker = '```ts\n// ' + path + '\n';
    const blocks = readFileSync(join(ROOT, 'README.md'), 'utf8')
      .split(marker)
      .slice(1)
      .map((rest) => rest.slice(0, rest.indexOf('```')));
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) expect(block).toBe(readFileSync(join(ROOT, path), 'utf8'));
  });
});

describe.each(PLATFORMS)('README: Passport JWT as the principal source (examples/jwt-principal.ts), on %s', (platform) => {
  const secret = randomBytes(32).toString('hex');
  let data: TempDir;
  let app: INestApplication;
  let jwt: JwtService;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    data = makeTempDir();
    app = await boot(JwtAppModule.register({ path: data.path, secret }), platform);
    jwt = app.get(JwtService);
  });
  afterAll(async () => {
    await app?.close();
    data?.remove();
  });

  it('creates a permit from a signed request, owned by the token subject', async () => {
    const token = jwt.sign({ sub: 'alice', roles: ['clerk'] });
    const created = await request(app.getHttpServer()).post('/permits').set(bearer(token)).send({ number: 'BP-JWT-1', client: 'Acme' }).expect(201);
    expect(created.body).toEqual(expect.objectContaining({ number: 'BP-JWT-1', createdBy: 'alice', version: 1 }));
    const read = await request(app.getHttpServer()).get(`/permits/${created.body.id}`).expect(200);
    expect(read.body.createdBy).toBe('alice');
  });

  it('answers 401 to a request without a token where the action needs a principal, and leaves open routes open', async () => {
    const refused = await request(app.getHttpServer()).post('/permits').send({ number: 'BP-JWT-2', client: 'Acme' }).expect(401);
    expect(refused.body).toEqual(expect.objectContaining({ statusCode: 401, error: 'Unauthorized' }));
    await request(app.getHttpServer()).get('/permits').expect(200);
  });

  it('answers 401 to a token that is forged, unsigned or expired, even on open routes', async () => {
    const forged = new JwtService({ secret: 'not-the-secret' }).sign({ sub: 'mallory', roles: ['admin'] });
    const [header, payload] = forged.split('.');
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const expired = jwt.sign({ sub: 'alice', roles: ['clerk'] }, { expiresIn: -60 });
    for (const token of [forged, `${noneHeader}.${payload}.`, `${header}.${payload}.`, expired]) {
      await request(app.getHttpServer()).post('/permits').set(bearer(token)).send({ number: 'BP-JWT-3', client: 'Acme' }).expect(401);
      await request(app.getHttpServer()).get('/permits').set(bearer(token)).expect(401);
    }
    const list = await request(app.getHttpServer()).get('/permits?number=BP-JWT-3').expect(200);
    expect(list.body.items).toEqual([]);
  });

  it('answers 403 to a valid token whose roles lack the permission', async () => {
    const token = jwt.sign({ sub: 'bob', roles: [] });
    await request(app.getHttpServer()).post('/permits').set(bearer(token)).send({ number: 'BP-JWT-4', client: 'Acme' }).expect(403);
    const list = await request(app.getHttpServer()).get('/permits?number=BP-JWT-4').expect(200);
    expect(list.body.items).toEqual([]);
  });
});

describe('README: Helmet on Express (examples/helmet.ts)', () => {
  let data: TempDir;
  let app: INestApplication;

  beforeAll(async () => {
    data = makeTempDir();
    app = await createApp(data.path);
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    data?.remove();
  });

  it.each([
    ['a list', 'get', '/permits', 200],
    ['a refused create', 'post', '/permits', 401],
    ['Swagger UI', 'get', '/docs', 200],
  ] as const)("puts Helmet's headers on %s", async (_what, method, path, status) => {
    const response = await request(app.getHttpServer())[method](path).expect(status);
    expect(response.headers).toEqual(
      expect.objectContaining({
        'content-security-policy': expect.stringContaining("default-src 'self'"),
        'x-content-type-options': 'nosniff',
        'strict-transport-security': expect.stringContaining('max-age='),
        'x-frame-options': 'SAMEORIGIN',
        'cross-origin-opener-policy': 'same-origin',
      }),
    );
    expect(response.headers).not.toHaveProperty('x-powered-by');
  });
});

const CHILD_STARTUP_MS = 25_000;

/** Compiles examples/ (a type error fails the suite) to examples/dist, beside the compiled package it imports. */
function buildExamples(): void {
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'examples', 'tsconfig.json')], {
      encoding: 'utf8',
    });
  } catch (error) {
    throw new Error(`examples/ does not compile:\n${(error as { stdout?: string }).stdout ?? error}`, { cause: error });
  }
}

/** A TCP port nobody listens on right now, on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().unref().on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it gives a value; fails after the start-up bound with the child's output. */
async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, child: SampleProcess): Promise<T> {
  const deadline = Date.now() + CHILD_STARTUP_MS;
  while (Date.now() < deadline) {
    if (child.child.exitCode !== null || child.child.signalCode !== null) throw new Error(`${child.name} exited before ${what}:\n${child.output()}`);
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${child.name}: ${what} not within ${CHILD_STARTUP_MS} ms:\n${child.output()}`);
}

/** Runs `node <args>` from the repository root on a free port of 127.0.0.1 and `DATA_PATH`. */
async function spawnNode(name: string, args: string[], env: Record<string, string>): Promise<SampleProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { name, child, base: `http://127.0.0.1:${port}`, output: () => output };
}

// Boots examples/dist/throttler.js as a user's main.ts would. Out of jest because
// @nestjs/throttler 6 is CommonJS that requires the ESM-only @nestjs/common 12: plain Node
// (20.19 and later) loads that, jest's module runtime does not before Node 24.9.
const THROTTLED_MAIN = `
import 'reflect-metadata';
const { NestFactory } = await import('@nestjs/core');
const { ExpressAdapter } = await import('@nestjs/platform-express');
const { FastifyAdapter } = await import('@nestjs/platform-fastify');
const { ThrottledAppModule } = await import('./examples/dist/throttler.js');
const adapter = process.env.PLATFORM === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
const app = await NestFactory.create(ThrottledAppModule.register(process.env.DATA_PATH), adapter, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT), process.env.HOST);
console.log('listening');
`;

describe('README: rate limiting with @nestjs/throttler (examples/throttler.ts)', () => {
  beforeAll(buildExamples, 60_000);

  describe.each(PLATFORMS)('on %s', (platform) => {
    let data: TempDir;
    let app: SampleProcess | undefined;

    beforeAll(async () => {
      data = makeTempDir();
      app = await spawnNode(`throttler-${platform}`, ['--input-type=module', '-e', THROTTLED_MAIN], { DATA_PATH: data.path, PLATFORM: platform });
      // Waiting on the log line, not on a request: a probe would count against the limit.
      await until('listening', () => (app!.output().includes('listening') ? true : undefined), app);
    }, 40_000);
    afterAll(async () => {
      await stopSample(app);
      data?.remove();
    }, 15_000);

    it('answers 429 with Retry-After on a generated route once a client passes the limit', async () => {
      for (let i = 1; i <= 10; i++) {
        const listed = await fetch(`${app!.base}/permits`);
        expect([listed.status, listed.headers.get('x-ratelimit-remaining')]).toEqual([200, String(10 - i)]);
      }
      const throttled = await fetch(`${app!.base}/permits`);
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await throttled.json()).toEqual(expect.objectContaining({ statusCode: 429 }));
      // Each route keeps its own count: reading one permit is still answered by the package.
      expect((await fetch(`${app!.base}/permits/01JD3Q4ZB6WQ6V4M9KX2T8R7HN`)).status).toBe(404);
    });
  });
});

/** Pids of the cluster's workers: the primary's child processes. */
function workersOf(primary: ChildProcess): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(primary.pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('README: the sample as a cluster, several processes on one data directory (sample/cluster.ts)', () => {
  let data: TempDir;
  let cluster: SampleProcess | undefined;
  const seenWorkers = new Set<number>();

  beforeAll(async () => {
    assertSampleBuilt();
    data = makeTempDir();
    cluster = await spawnNode('cluster', [join(ROOT, 'sample', 'dist', 'cluster.js')], { DATA_PATH: data.path, WORKERS: '2' });
    await until(
      '2 workers answering',
      async () => {
        const status = await fetch(`${cluster!.base}/permits?limit=1`).then(
          (response) => response.status,
          () => 0,
        );
        const workers = workersOf(cluster!.child);
        workers.forEach((pid) => seenWorkers.add(pid));
        return status === 200 && workers.length === 2 ? true : undefined;
      },
      cluster,
    );
  }, 40_000);

  afterAll(async () => {
    // SIGTERM reaches the workers through the primary; a primary killed after 5 s leaves them to us.
    await stopSample(cluster);
    for (const pid of seenWorkers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    data?.remove();
  }, 15_000);

  it('shows every acknowledged write in every worker, replaces a killed worker and leaves a consistent store', async () => {
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) => call(cluster!, 'POST', '/permits', { user: ADMIN, body: permitBody(`BP-CL-${i}`) })),
    );
    expect(created.map((response) => response.status)).toEqual(Array(40).fill(201));
    expect(new Set(created.map((response) => response.body.id)).size).toBe(40);
    // Each read on a new connection, which the primary hands to the workers in turn: both answer.
    const listAll = () => call(cluster!, 'GET', '/permits?limit=100', { headers: { connection: 'close' } });
    for (let i = 0; i < 6; i++) expect((await listAll()).body.items).toHaveLength(40);

    const [victim] = workersOf(cluster!.child);
    process.kill(victim!, 'SIGKILL');
    const replaced = await until(
      'a replacement worker',
      () => {
        const workers = workersOf(cluster!.child);
        return workers.length === 2 && !workers.includes(victim!) ? workers : undefined;
      },
      cluster!,
    );
    replaced.forEach((pid) => seenWorkers.add(pid));
    await until(
      'both workers answering',
      async () => {
        const statuses = await Promise.all(
          [1, 2, 3, 4].map(() =>
            listAll().then(
              (response) => response.status,
              () => 0,
            ),
          ),
        );
        return statuses.every((status) => status === 200) ? true : undefined;
      },
      cluster!,
    );
    expect((await call(cluster!, 'POST', '/permits', { user: ADMIN, body: permitBody('BP-CL-after') })).status).toBe(201);
    for (let i = 0; i < 4; i++) expect((await listAll()).body.items).toHaveLength(41);

    await stopSample(cluster);
    expect(cluster!.child.exitCode).toBe(0);
    const workersLeft = [...seenWorkers].filter(alive);
    expect(workersLeft).toEqual([]);
    const report = await withSampleStore(data.path, (storage) => storage.verify());
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  }, 60_000);
});
