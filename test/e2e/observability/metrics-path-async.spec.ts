import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import request from 'supertest';
import { EntitiesModule, Entity, Field, type EntitiesMetricsOptions } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('metrics')
class AsyncMetric {
  @Field() name!: string;
}
@Entity('prom')
class AsyncProm {
  @Field() name!: string;
}

async function start(entity: new () => object, metricsPath: string | undefined, metrics: Omit<EntitiesMetricsOptions, 'registry'> = { enabled: true }) {
  const dir = makeTempDir('metrics-async-');
  @Module({
    imports: [
      EntitiesModule.forRootAsync({ metricsPath, useFactory: () => ({ path: dir.path, metrics: { ...metrics, registry: new Registry() } }) }),
      EntitiesModule.forFeature([entity]),
    ],
  })
  class AppModule {}
  try {
    const app = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication({ logger: false });
    await app.init();
    return { app, dir };
  } catch (error) {
    dir.remove();
    throw error;
  }
}

/** With forRootAsync the metrics route is `metricsPath` (fixed before the factory runs), or none. */
describe('forRootAsync: the metrics route clash check', () => {
  it('an entity on /metrics starts when the metrics route is /prom', async () => {
    const { app, dir } = await start(AsyncMetric, '/prom');
    try {
      await request(app.getHttpServer()).get('/metrics').expect(200);
    } finally {
      await app.close();
      dir.remove();
    }
  });

  it('an entity on /metrics starts when forRootAsync serves no metrics route', async () => {
    const { app, dir } = await start(AsyncMetric, undefined);
    await app.close();
    dir.remove();
  });

  it('an entity on /prom, the metrics route, fails start-up', async () => {
    await expect(
      start(AsyncProm, '/prom').then(async ({ app, dir }) => {
        await app.close();
        dir.remove();
      }),
    ).rejects.toThrow('AsyncProm: route path "/prom" is already used by the metrics route /prom');
  });
});

/** A `metrics.path` from the factory comes too late to be a route: it is refused rather than answered with 404. */
describe('forRootAsync: metrics.path in the factory', () => {
  afterEach(() => jest.restoreAllMocks());

  it('fails start-up naming metricsPath when the factory gives a path and metricsPath is unset', async () => {
    await expect(start(AsyncProm, undefined, { enabled: true, path: '/custom' })).rejects.toThrow(
      `metrics.path "/custom" cannot be served from the forRootAsync factory, which runs after the routes are fixed: give it beside the factory, forRootAsync({ metricsPath: "/custom", useFactory })`,
    );
  });

  it("fails start-up when the factory's path differs from metricsPath", async () => {
    await expect(start(AsyncProm, '/prom', { enabled: true, path: '/custom' })).rejects.toThrow('(the metrics route is /prom)');
  });

  it('serves the route when both name it, slashes aside', async () => {
    const { app, dir } = await start(AsyncMetric, '/custom', { enabled: true, path: 'custom/' });
    try {
      const answer = await request(app.getHttpServer()).get('/custom').expect(200);
      expect(answer.text).toContain('entities_');
    } finally {
      await app.close();
      dir.remove();
    }
  });

  it('warns when metrics are collected with no route, unless path is false', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const unserved = await start(AsyncMetric, undefined);
    await unserved.app.close();
    unserved.dir.remove();
    expect(warn.mock.calls.map(([message]) => message)).toContainEqual(expect.stringContaining('metrics are collected but no route serves them'));
    warn.mockClear();
    const own = await start(AsyncMetric, undefined, { enabled: true, path: false });
    await own.app.close();
    own.dir.remove();
    expect(warn.mock.calls.map(([message]) => message)).not.toContainEqual(expect.stringContaining('no route serves them'));
  });

  it('takes a path with metrics off', async () => {
    const { app, dir } = await start(AsyncMetric, undefined, { enabled: false, path: '/custom' });
    await app.close();
    dir.remove();
  });
});
