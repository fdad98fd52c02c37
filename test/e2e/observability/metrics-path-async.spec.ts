import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import request from 'supertest';
import { EntitiesModule, Entity, Field } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('metrics')
class AsyncMetric {
  @Field() name!: string;
}
@Entity('prom')
class AsyncProm {
  @Field() name!: string;
}

async function start(entity: new () => object, metricsPath: string | undefined) {
  const dir = makeTempDir('metrics-async-');
  @Module({
    imports: [
      EntitiesModule.forRootAsync({ metricsPath, useFactory: () => ({ path: dir.path, metrics: { enabled: true, registry: new Registry() } }) }),
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
