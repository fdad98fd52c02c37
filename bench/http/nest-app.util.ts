import 'reflect-metadata';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

export type Platform = 'express' | 'fastify';

/** Express's response and Fastify's reply both set a header this way. */
export interface HeaderSetter {
  header(name: string, value: string): unknown;
}

/** Every benchmarked app is set up as the sample is: 1 MiB bodies, a whitelisting ValidationPipe, no logger. */
export async function createNestApp(module: unknown, platform: Platform): Promise<INestApplication> {
  const app =
    platform === 'fastify'
      ? await NestFactory.create<NestFastifyApplication>(module as never, new FastifyAdapter({ bodyLimit: 1024 * 1024 }), { logger: false })
      : await NestFactory.create<NestExpressApplication>(module as never, new ExpressAdapter(), { logger: false, bodyParser: false });
  if (platform === 'express') (app as NestExpressApplication).useBodyParser('json', { limit: 1024 * 1024 });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }));
  app.enableShutdownHooks();
  return app;
}
