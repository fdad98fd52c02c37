import { randomUUID } from 'node:crypto';
import { cpSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import KeyvRedis from '@keyv/redis';
import { createCache } from 'cache-manager';
import Keyv from 'keyv';
import { Cached, Entity, EntityCache, Field, Historize, Index, type EntityCacheMetrics } from '../../../lib/index.js';
import { describeWhen } from '../../support/requirement.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';
import { http, unique } from '../support/e2e.util.js';

const REDIS_HOST = '127.0.0.1';
const REDIS_PORT = 6379;
const REDIS_URL = `redis://${REDIS_HOST}:${REDIS_PORT}`;

@Entity('shared-notes')
@Cached()
@Historize('full')
class SharedNote {
  @Field() text!: string;
  @Field() @Index() tag!: string;
}

/** Why Redis cannot be used, or `undefined` when a TCP connection to it succeeds. */
function redisUnreachable(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: REDIS_HOST, port: REDIS_PORT });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.end();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('the connection timed out');
    });
    socket.once('error', (error) => resolve(error.message));
  });
}

const unreachable = await redisUnreachable();
const describeWithRedis = describeWhen(unreachable && `no Redis at ${REDIS_URL} (${unreachable})`, 'the Redis cache suite');

/** One app instance with its own cache-manager on its own Redis client. */
interface Instance {
  t: TestApp;
  redis: KeyvRedis<unknown>;
  keyv: Keyv;
}

function metricsOf(instance: Instance): EntityCacheMetrics {
  return instance.t.app.get(EntityCache).metrics()['shared-notes'] ?? { hits: 0, misses: 0, invalidations: 0 };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts an app on `path` whose cache is a Keyv on its own Redis client, under `namespace`; `started` collects it for cleanup. */
async function startInstance(started: Instance[], options: { platform: 'express' | 'fastify'; path: string; namespace: string }): Promise<Instance> {
  const redis = new KeyvRedis<unknown>(REDIS_URL);
  const keyv = new Keyv({ store: redis, namespace: options.namespace });
  try {
    const t = await createTestApp({
      entities: [SharedNote],
      platform: options.platform,
      path: options.path,
      module: { cache: { manager: createCache({ stores: [keyv] }) } },
    });
    const instance = { t, redis, keyv };
    started.push(instance);
    return instance;
  } catch (error) {
    await redis.disconnect().catch(() => undefined);
    throw error;
  }
}

/** Closes the apps, forgets the namespace's entries, quits the Redis clients; never throws. */
async function stopInstances(started: Instance[]): Promise<void> {
  for (const instance of started.splice(0)) {
    await instance.t.close().catch(() => undefined);
    await instance.keyv.clear().catch(() => undefined);
    await instance.redis.disconnect().catch(() => undefined);
  }
}

describeWithRedis('two app instances on one data directory sharing a Redis cache', () => {
  let data: ReturnType<typeof makeTempDir> | undefined;
  // Keys of this run live under their own namespace, so runs never see each other's entries.
  const namespace = `nde-test-${randomUUID()}`;
  const instances: Instance[] = [];
  let a: Instance;
  let b: Instance;

  /** Waits until Redis holds an entry of this run whose key names `id` (cache writes are not awaited by reads). */
  async function cachedInRedis(id: string): Promise<void> {
    const client = await a.redis.getClient();
    for (let attempt = 0; attempt < 100; attempt++) {
      if ((await client.keys(`${namespace}*${id}*`)).length > 0) return;
      await sleep(10);
    }
    throw new Error(`no cache entry for ${id} appeared in Redis`);
  }

  beforeAll(async () => {
    data = makeTempDir();
    a = await startInstance(instances, { platform: 'express', path: data.path, namespace });
    b = await startInstance(instances, { platform: 'fastify', path: data.path, namespace });
  });

  afterAll(async () => {
    await stopInstances(instances);
    data?.remove();
  });

  it('shows a write made through instance A on the very next cached GET /P/:id through instance B', async () => {
    const created = await http(a.t)
      .post('/shared-notes')
      .send({ text: 'v1', tag: unique('tag') })
      .expect(201);
    const id = created.body.id as string;
    await http(b.t).get(`/shared-notes/${id}`).expect(200);
    await cachedInRedis(id);
    expect((await http(b.t).get(`/shared-notes/${id}`).expect(200)).body.text).toBe('v1');

    await http(a.t).patch(`/shared-notes/${id}`).set('If-Match', '"1"').send({ text: 'v2' }).expect(200);
    const afterPatch = await http(b.t).get(`/shared-notes/${id}`).expect(200);
    expect(afterPatch.body).toEqual(expect.objectContaining({ id, text: 'v2', version: 2 }));
    expect(afterPatch.headers['etag']).toBe('"2"');

    await http(a.t).delete(`/shared-notes/${id}`).expect(204);
    expect((await http(b.t).get(`/shared-notes/${id}`)).status).toBe(404);
  });

  it('shows a write made through instance A on the very next cached GET /P and history through instance B', async () => {
    const tag = unique('tag');
    const created = await http(a.t).post('/shared-notes').send({ text: 'v1', tag }).expect(201);
    const id = created.body.id as string;
    await http(b.t).get(`/shared-notes?tag=${tag}`).expect(200);
    await http(b.t).get(`/shared-notes/${id}/history`).expect(200);
    await sleep(50);

    await http(a.t).patch(`/shared-notes/${id}`).send({ text: 'v2' }).expect(200);
    const second = await http(a.t).post('/shared-notes').send({ text: 'another', tag }).expect(201);

    const list = await http(b.t).get(`/shared-notes?tag=${tag}`).expect(200);
    const history = await http(b.t).get(`/shared-notes/${id}/history`).expect(200);
    expect(list.body.items.map((item: { id: string; text: string }) => [item.id, item.text])).toEqual([
      [id, 'v2'],
      [second.body.id, 'another'],
    ]);
    expect(history.body.fields.text.map((entry: { value: string }) => entry.value)).toEqual(['v2', 'v1']);
  });

  it("counts, in instance B's metrics, a hit on the entry instance A cached", async () => {
    const created = await http(a.t)
      .post('/shared-notes')
      .send({ text: 'shared', tag: unique('tag') })
      .expect(201);
    const id = created.body.id as string;
    const first = await http(a.t).get(`/shared-notes/${id}`).expect(200);
    await cachedInRedis(id);
    const before = metricsOf(b);

    const fromB = await http(b.t).get(`/shared-notes/${id}`).expect(200);

    const after = metricsOf(b);
    expect(fromB.body).toEqual(first.body);
    expect({ hits: after.hits - before.hits, misses: after.misses - before.misses }).toEqual({ hits: 1, misses: 0 });
  });

  it("counts, in instance B's metrics, the invalidation made by a write through instance A", async () => {
    const created = await http(a.t)
      .post('/shared-notes')
      .send({ text: 'counted', tag: unique('tag') })
      .expect(201);
    const id = created.body.id as string;
    await http(b.t).get(`/shared-notes/${id}`).expect(200);
    const before = metricsOf(b);

    await http(a.t).patch(`/shared-notes/${id}`).send({ text: 'counted again' }).expect(200);
    await http(b.t).get(`/shared-notes/${id}`).expect(200);

    const after = metricsOf(b);
    expect(after.invalidations - before.invalidations).toBe(1);
    expect(after.misses - before.misses).toBe(1);
  });
});

describeWithRedis('a Redis cache shared beyond one data directory', () => {
  const instances: Instance[] = [];
  const dirs: Array<ReturnType<typeof makeTempDir>> = [];

  function tempDir(): string {
    const dir = makeTempDir();
    dirs.push(dir);
    return dir.path;
  }

  afterEach(async () => {
    await stopInstances(instances);
    for (const dir of dirs.splice(0)) dir.remove();
  });

  it('never serves an app the records another app with its own data directory cached in the same Redis namespace', async () => {
    const namespace = `nde-test-${randomUUID()}`;
    const x = await startInstance(instances, { platform: 'express', path: tempDir(), namespace });
    const y = await startInstance(instances, { platform: 'fastify', path: tempDir(), namespace });
    await http(x.t).post('/shared-notes').send({ text: 'only in X', tag: 'same-tag' }).expect(201);
    await http(y.t).post('/shared-notes').send({ text: 'only in Y', tag: 'same-tag' }).expect(201);

    const fromX = await http(x.t).get('/shared-notes?tag=same-tag').expect(200);
    await sleep(100);
    const fromY = await http(y.t).get('/shared-notes?tag=same-tag').expect(200);

    expect(fromX.body.items.map((item: SharedNote) => item.text)).toEqual(['only in X']);
    expect(fromY.body.items.map((item: SharedNote) => item.text)).toEqual(['only in Y']);
  });

  it('never serves an app opened on a copy of the data directory a read the original cached, once a write on the copy is acknowledged', async () => {
    const namespace = `nde-test-${randomUUID()}`;
    const original = tempDir();
    const copy = tempDir();
    const first = await startInstance(instances, { platform: 'express', path: original, namespace });
    const created = await http(first.t)
      .post('/shared-notes')
      .send({ text: 'v1', tag: unique('tag') })
      .expect(201);
    const id = created.body.id as string;
    await first.t.close();
    // A consistent copy, as `backup <dir>` makes for the app to open with `path: <dir>`.
    cpSync(original, copy, { recursive: true });

    const onOriginal = await startInstance(instances, { platform: 'express', path: original, namespace });
    await http(onOriginal.t).patch(`/shared-notes/${id}`).send({ text: 'v2 in the original' }).expect(200);
    expect((await http(onOriginal.t).get(`/shared-notes/${id}`).expect(200)).body.text).toBe('v2 in the original');
    await sleep(100);

    const onCopy = await startInstance(instances, { platform: 'fastify', path: copy, namespace });
    expect((await http(onCopy.t).get(`/shared-notes/${id}`).expect(200)).body).toEqual(expect.objectContaining({ text: 'v1', version: 1 }));
    const patched = await http(onCopy.t).patch(`/shared-notes/${id}`).send({ text: 'v2 in the copy' }).expect(200);
    expect(patched.body).toEqual(expect.objectContaining({ text: 'v2 in the copy', version: 2 }));

    const read = await http(onCopy.t).get(`/shared-notes/${id}`).expect(200);
    expect(read.body).toEqual(expect.objectContaining({ text: 'v2 in the copy', version: 2 }));
  });
});

/** A TCP proxy to Redis that can be cut, as a Redis going away would be. */
function redisProxy(): Promise<{ url: string; cut: () => void }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: REDIS_HOST, port: REDIS_PORT });
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
        cut: () => {
          server.close();
          for (const socket of sockets) socket.destroy();
        },
      }),
    ),
  );
}

describeWithRedis('a Redis cache that goes away', () => {
  let t: TestApp | undefined;
  let redis: KeyvRedis<unknown> | undefined;

  afterEach(async () => {
    // Destroying the client fails the commands it still holds for a server that is gone.
    ((await redis?.getClient().catch(() => undefined)) as { destroy?: () => void } | undefined)?.destroy?.();
    await t?.close();
  });

  it('answers reads from the store, within the cache timeout, while Redis does not answer', async () => {
    const proxy = await redisProxy();
    redis = new KeyvRedis<unknown>(proxy.url);
    const manager = createCache({ stores: [new Keyv({ store: redis, namespace: `nde-test-${randomUUID()}` })] });
    t = await createTestApp({ entities: [SharedNote], module: { cache: { manager, timeout: 50 } } });
    const { body } = await http(t)
      .post('/shared-notes')
      .send({ text: 'v1', tag: unique('tag') })
      .expect(201);
    await http(t).get(`/shared-notes/${body.id}`).expect(200);
    proxy.cut();

    const started = Date.now();
    for (let i = 0; i < 5; i++) expect((await http(t).get(`/shared-notes/${body.id}`).timeout(5_000)).body.text).toBe('v1');
    expect(Date.now() - started).toBeLessThan(2_000);
  }, 20_000);

  it('answers reads from the store promptly when Redis is not there at start', async () => {
    redis = new KeyvRedis<unknown>('redis://127.0.0.1:1');
    t = await createTestApp({ entities: [SharedNote], module: { cache: { manager: createCache({ stores: [new Keyv({ store: redis })] }) } } });
    const { body } = await http(t)
      .post('/shared-notes')
      .send({ text: 'v1', tag: unique('tag') })
      .expect(201);

    const started = Date.now();
    for (let i = 0; i < 3; i++) await http(t).get(`/shared-notes/${body.id}`).timeout(5_000).expect(200);
    expect(Date.now() - started).toBeLessThan(2_000);
  }, 20_000);
});
