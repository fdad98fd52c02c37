import { Controller, Get, Injectable, Module, UnauthorizedException, UseGuards, VersioningType, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import request from 'supertest';
import { Audited, Cached, EntitiesModule, Entity, EntityRequestGuard, Field, Index, Permission } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { asPrincipal, http, principalFromHeader } from '../support/e2e.util.js';
import { createObservedApp } from './observability-app.util.js';
import { PLATFORMS, type Platform, type TestApp } from '../../support/test-app.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { histogramBuckets, parsePrometheusText, sampleValue, type MetricFamily } from './prometheus-text.util.js';

@Entity('gauges')
@Audited()
@Cached({ ttl: 60_000 })
@Permission({ read: null, create: 'gauges:write', update: 'gauges:write', delete: 'gauges:write' })
class Gauge {
  @Field() @Index() label!: string;
  @Field() reading!: number;
}

const WRITER = asPrincipal({ id: 'writer', permissions: ['gauges:write'] });
const BUCKETS = [0.001, 0.01, 0.1, 1];
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** Every family the package registers, with its type. */
const FAMILIES: Record<string, string> = {
  entities_http_requests_total: 'counter',
  entities_http_request_duration_seconds: 'histogram',
  entities_storage_operation_duration_seconds: 'histogram',
  entities_storage_transaction_duration_seconds: 'histogram',
  entities_storage_transaction_failures_total: 'counter',
  entities_slow_queries_total: 'counter',
  entities_cache_hits_total: 'counter',
  entities_cache_misses_total: 'counter',
  entities_cache_invalidations_total: 'counter',
  entities_event_log_events: 'gauge',
  entities_event_log_last_seq: 'gauge',
  entities_records: 'gauge',
  entities_map_size_bytes: 'gauge',
  entities_map_used_bytes: 'gauge',
  entities_disk_free_bytes: 'gauge',
};

async function scrape(t: TestApp, path = '/metrics'): Promise<Map<string, MetricFamily>> {
  const response = await http(t).get(path);
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toBe(PROMETHEUS_TEXT);
  return parsePrometheusText(response.text);
}

/** A counter or histogram count that has not been touched yet reads as 0. */
function count(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number {
  return sampleValue(families, name, labels) ?? 0;
}

describe.each(PLATFORMS)('Prometheus metrics on %s', (platform: Platform) => {
  let t: TestApp;
  let registry: Registry;

  beforeAll(async () => {
    registry = new Registry();
    t = await createObservedApp({
      entities: [Gauge],
      platform,
      module: { getPrincipal: principalFromHeader, metrics: { enabled: true, registry, buckets: BUCKETS } },
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('serves every family with its HELP and TYPE in the Prometheus text format', async () => {
    const families = await scrape(t);
    for (const [name, type] of Object.entries(FAMILIES)) {
      expect({ name, type: families.get(name)?.type, help: (families.get(name)?.help.length ?? 0) > 0 }).toEqual({ name, type, help: true });
    }
  });

  it('counts each answer of a generated route under its entity, method, route template and status', async () => {
    const before = await scrape(t);
    const created = await http(t).post('/gauges').set(WRITER).send({ label: 'boiler', reading: 3 });
    expect(created.status).toBe(201);
    expect((await http(t).post('/gauges').send({ label: 'refused', reading: 1 })).status).toBe(401);
    expect((await http(t).get(`/gauges/${created.body.id}`)).status).toBe(200);
    expect((await http(t).get(`/gauges/${created.body.id}`)).status).toBe(200);
    expect((await http(t).get('/gauges/01ARZ3NDEKTSV4RRFFQ69G5FAV')).status).toBe(404);
    expect((await http(t).get('/gauges?label=boiler')).status).toBe(200);
    const after = await scrape(t);

    const requests = (method: string, route: string, status: number) => ({ entity: 'gauges', method, route, status: String(status) });
    const added = (labels: Record<string, string>) =>
      count(after, 'entities_http_requests_total', labels) - count(before, 'entities_http_requests_total', labels);
    expect({
      created: added(requests('POST', '/gauges', 201)),
      refusedByTheGuard: added(requests('POST', '/gauges', 401)),
      read: added(requests('GET', '/gauges/:id', 200)),
      missing: added(requests('GET', '/gauges/:id', 404)),
      listed: added(requests('GET', '/gauges', 200)),
    }).toEqual({ created: 1, refusedByTheGuard: 1, read: 2, missing: 1, listed: 1 });
  });

  it('keeps each latency histogram in seconds, cumulative over the configured buckets, its +Inf bucket equal to its count', async () => {
    const id = (await http(t).post('/gauges').set(WRITER).send({ label: 'kiln', reading: 9 })).body.id as string;
    const labels = { entity: 'gauges', method: 'GET', route: '/gauges/:id', status: '200' };
    const before = await scrape(t);
    const started = performance.now();
    for (let i = 0; i < 3; i++) expect((await http(t).get(`/gauges/${id}`)).status).toBe(200);
    const wallSeconds = (performance.now() - started) / 1000;
    const after = await scrape(t);

    const buckets = histogramBuckets(after, 'entities_http_request_duration_seconds', labels);
    expect(buckets.map(([bound]) => bound)).toEqual([...BUCKETS, Infinity]);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]![1]).toBeGreaterThanOrEqual(buckets[i - 1]![1]);
    const total = sampleValue(after, 'entities_http_request_duration_seconds_count', labels)!;
    expect(buckets.at(-1)![1]).toBe(total);
    expect(total - count(before, 'entities_http_request_duration_seconds_count', labels)).toBe(3);
    // The server's time for a request is within the time the client waited for it.
    const seconds = count(after, 'entities_http_request_duration_seconds_sum', labels) - count(before, 'entities_http_request_duration_seconds_sum', labels);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(wallSeconds);
  });

  it('times repository operations and durable write transactions, in seconds', async () => {
    const before = await scrape(t);
    const started = performance.now();
    const id = (await http(t).post('/gauges').set(WRITER).send({ label: 'press', reading: 1 })).body.id as string;
    expect((await http(t).patch(`/gauges/${id}`).set(WRITER).send({ reading: 2 })).status).toBe(200);
    const wallSeconds = (performance.now() - started) / 1000;
    const after = await scrape(t);
    const added = (name: string, labels: Record<string, string> = {}) => count(after, name, labels) - count(before, name, labels);
    const operation = (suffix: string, op: string) => added(`entities_storage_operation_duration_seconds_${suffix}`, { entity: 'gauges', operation: op });
    expect({
      create: operation('count', 'create'),
      update: operation('count', 'update'),
      transactions: added('entities_storage_transaction_duration_seconds_count'),
    }).toEqual({ create: 1, update: 1, transactions: 2 });
    for (const seconds of [operation('sum', 'create') + operation('sum', 'update'), added('entities_storage_transaction_duration_seconds_sum')]) {
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThanOrEqual(wallSeconds);
    }
  });

  it('follows the cache: a first read misses, the same read again hits', async () => {
    const id = (await http(t).post('/gauges').set(WRITER).send({ label: 'vat', reading: 4 })).body.id as string;
    const before = await scrape(t);
    await http(t).get(`/gauges/${id}`);
    await http(t).get(`/gauges/${id}`);
    const after = await scrape(t);
    const added = (name: string) => count(after, name, { entity: 'gauges' }) - count(before, name, { entity: 'gauges' });
    expect({ misses: added('entities_cache_misses_total'), hits: added('entities_cache_hits_total') }).toEqual({ misses: 1, hits: 1 });
  });

  it('reports the log length, the records per entity and the map usage as they are in the store', async () => {
    const families = await scrape(t);
    const storage = t.app.get(EntityStorage);
    const events = storage.events(0, 10_000);
    expect(sampleValue(families, 'entities_event_log_last_seq')).toBe(events.at(-1)!.seq);
    expect(sampleValue(families, 'entities_event_log_events')).toBe(events.length);
    const live = events.filter((event) => event.type === 'created').length - events.filter((event) => event.type === 'deleted').length;
    expect(sampleValue(families, 'entities_records', { entity: 'gauges' })).toBe(live);
    const mapSize = sampleValue(families, 'entities_map_size_bytes')!;
    const used = sampleValue(families, 'entities_map_used_bytes')!;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(mapSize);
    expect(sampleValue(families, 'entities_disk_free_bytes')).toBeGreaterThan(0);
  });
});

/** A controller of the app's own, on two paths, each of its routes on two. */
@Controller(['own-gauges', 'own-gauge-aliases'])
@UseGuards(EntityRequestGuard)
class OwnGaugesController {
  @Get(['summary', 'overview'])
  summary() {
    return { ok: true };
  }
}

describe.each(PLATFORMS)('EntityRequestGuard and the request metrics on %s', (platform: Platform) => {
  it("times the app's own routes declared on several paths, under the first of them", async () => {
    const registry = new Registry();
    const t = await createObservedApp({ entities: [Gauge], platform, module: { metrics: { enabled: true, registry } }, controllers: [OwnGaugesController] });
    try {
      expect((await http(t).get('/own-gauge-aliases/overview')).status).toBe(200);
      expect(count(await scrape(t), 'entities_http_requests_total', { entity: '', method: 'GET', route: '/own-gauges/summary', status: '200' })).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('as a global guard, counts each answer of a generated route once', async () => {
    const registry = new Registry();
    const t = await createObservedApp({
      entities: [Gauge],
      platform,
      module: { getPrincipal: principalFromHeader, metrics: { enabled: true, registry } },
      providers: [{ provide: APP_GUARD, useClass: EntityRequestGuard }],
    });
    try {
      expect((await http(t).post('/gauges').set(WRITER).send({ label: 'a', reading: 1 })).status).toBe(201);
      const families = await scrape(t);
      expect(count(families, 'entities_http_requests_total', { entity: 'gauges', method: 'POST', route: '/gauges', status: '201' })).toBe(1);
      expect(count(families, 'entities_http_request_duration_seconds_count', { entity: 'gauges', method: 'POST', route: '/gauges', status: '201' })).toBe(1);
    } finally {
      await t.close();
    }
  });
});

/** An app's own authentication guard, which refuses a forged token before any route handler runs. */
@Injectable()
class RefusingAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers.authorization === 'Bearer forged') {
      throw new UnauthorizedException();
    }
    return true;
  }
}

describe.each(PLATFORMS)("a generated route's requests refused by the app's own global guard on %s", (platform: Platform) => {
  it('carry the id and are counted once EntityRequestGuard comes first', async () => {
    const registry = new Registry();
    const t = await createObservedApp({
      entities: [Gauge],
      platform,
      module: { metrics: { enabled: true, registry } },
      providers: [
        { provide: APP_GUARD, useClass: EntityRequestGuard },
        { provide: APP_GUARD, useClass: RefusingAuthGuard },
      ],
    });
    try {
      const refused = await http(t).get('/gauges').set('Authorization', 'Bearer forged').set('X-Request-Id', 'req-42');
      expect({ status: refused.status, id: refused.headers['x-request-id'] }).toEqual({ status: 401, id: 'req-42' });
      expect((await http(t).get('/gauges')).status).toBe(200);
      const families = await scrape(t);
      for (const status of ['401', '200']) {
        expect({ status, count: count(families, 'entities_http_requests_total', { entity: 'gauges', method: 'GET', route: '/gauges', status }) }).toEqual({
          status,
          count: 1,
        });
      }
    } finally {
      await t.close();
    }
  });
});

describe.each(PLATFORMS)('the metrics route and registry on %s', (platform: Platform) => {
  it('serves no route unless metrics are enabled', async () => {
    const t = await createObservedApp({ entities: [Gauge], platform });
    try {
      expect((await http(t).get('/metrics')).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  it('with path false, registers the metrics for another module to serve, without a route of its own', async () => {
    const registry = new Registry();
    const t = await createObservedApp({ entities: [Gauge], platform, module: { metrics: { enabled: true, path: false, registry } } });
    try {
      expect((await http(t).get('/metrics')).status).toBe(404);
      await http(t).get('/gauges');
      const families = parsePrometheusText(await registry.metrics());
      expect(sampleValue(families, 'entities_http_requests_total', { method: 'GET', route: '/gauges', status: '200' })).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('serves the route given to forRootAsync as metricsPath, and 404 there when the factory leaves metrics off', async () => {
    const registry = new Registry();
    for (const enabled of [true, false]) {
      const dir = makeTempDir();
      @Module({
        imports: [
          EntitiesModule.forRootAsync({ useFactory: () => ({ path: dir.path, metrics: { enabled, registry } }), metricsPath: '/ops/metrics' }),
          EntitiesModule.forFeature([Gauge]),
        ],
      })
      class AsyncModule {}
      const moduleRef = await Test.createTestingModule({ imports: [AsyncModule] }).compile();
      const app = moduleRef.createNestApplication(platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
      await app.init();
      if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
      try {
        const response = await request(app.getHttpServer()).get('/ops/metrics');
        expect({ enabled, status: response.status }).toEqual({ enabled, status: enabled ? 200 : 404 });
        if (enabled) expect(parsePrometheusText(response.text).has('entities_http_requests_total')).toBe(true);
      } finally {
        await app.close();
        dir.remove();
      }
    }
  });

  it('serves its route at the same path when the app versions its routes', async () => {
    const dir = makeTempDir();
    @Module({ imports: [EntitiesModule.forRoot({ path: dir.path, metrics: { enabled: true, registry: new Registry() } }), EntitiesModule.forFeature([Gauge])] })
    class VersionedModule {}
    const moduleRef = await Test.createTestingModule({ imports: [VersionedModule] }).compile();
    const app = moduleRef.createNestApplication(platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
    app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
    await app.init();
    if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    try {
      expect((await request(app.getHttpServer()).get('/v1/gauges')).status).toBe(200);
      expect((await request(app.getHttpServer()).get('/metrics')).status).toBe(200);
    } finally {
      await app.close();
      dir.remove();
    }
  });

  it("serves its route under the app's global prefix", async () => {
    const dir = makeTempDir();
    @Module({ imports: [EntitiesModule.forRoot({ path: dir.path, metrics: { enabled: true, registry: new Registry() } }), EntitiesModule.forFeature([Gauge])] })
    class PrefixedModule {}
    const moduleRef = await Test.createTestingModule({ imports: [PrefixedModule] }).compile();
    const app = moduleRef.createNestApplication(platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
    app.setGlobalPrefix('api');
    await app.init();
    if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    try {
      expect((await request(app.getHttpServer()).get('/api/gauges')).status).toBe(200);
      expect((await request(app.getHttpServer()).get('/api/metrics')).status).toBe(200);
    } finally {
      await app.close();
      dir.remove();
    }
  });

  it('refuses to start on a registry that already holds its metrics, naming the metric, and frees the names on close', async () => {
    const registry = new Registry();
    const first = await createObservedApp({ entities: [Gauge], platform, module: { metrics: { enabled: true, registry, path: false } } });
    await expect(createObservedApp({ entities: [Gauge], platform, module: { metrics: { enabled: true, registry, path: false } } })).rejects.toThrow(
      /entities_http_requests_total is already registered in this registry/,
    );
    await first.close();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    const second = await createObservedApp({ entities: [Gauge], platform, module: { metrics: { enabled: true, registry, path: false } } });
    await second.close();
  });
});
