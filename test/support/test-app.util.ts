import 'reflect-metadata';
import { Module, type INestApplication, type Type } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type request from 'supertest';
import { EntitiesModule, type EntitiesModuleOptions } from '../../lib/index.js';
import { makeTempDir } from './temp-dir.util.js';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: readonly Platform[] = ['express', 'fastify'];

export interface TestApp {
  app: INestApplication;
  /** The HTTP server to hand to supertest. */
  server: () => Parameters<typeof request>[0];
  /** The data directory (a fresh temp dir unless one was given). */
  path: string;
  /** Closes the app; removes the data directory if this helper created it. */
  close: () => Promise<void>;
}

/**
 * Boots a Nest app with `EntitiesModule.forRoot(options)` and `forFeature(entities)` on
 * the given platform, bodies up to 1 MiB on both, ready for supertest.
 */
export async function createTestApp(options: {
  entities: Type<object>[];
  platform?: Platform;
  path?: string;
  module?: Partial<EntitiesModuleOptions>;
  providers?: Type<unknown>[];
  controllers?: Type<unknown>[];
}): Promise<TestApp> {
  const temp = options.path === undefined ? makeTempDir() : undefined;
  const path = options.path ?? temp!.path;

  @Module({
    imports: [EntitiesModule.forRoot({ ...options.module, path }), EntitiesModule.forFeature(options.entities)],
    controllers: options.controllers ?? [],
    providers: options.providers ?? [],
  })
  class TestAppModule {}

  const moduleRef = await Test.createTestingModule({ imports: [TestAppModule] }).compile();
  let app: INestApplication;
  if (options.platform === 'fastify') {
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ bodyLimit: 1024 * 1024 }), { logger: false });
  } else {
    app = moduleRef.createNestApplication<NestExpressApplication>(new ExpressAdapter(), { logger: false, bodyParser: false });
    (app as NestExpressApplication).useBodyParser('json', { limit: 1024 * 1024 });
  }
  await app.init();
  if (options.platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return {
    app,
    server: () => app.getHttpServer(),
    path,
    close: async () => {
      await app.close();
      temp?.remove();
    },
  };
}
