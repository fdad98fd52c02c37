import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplication, type LoggerService, type Provider, type Type } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { EntitiesModule, type EntitiesModuleOptions } from '../../../lib/index.js';
import type { Platform, TestApp } from '../../support/test-app.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

/**
 * Like `createTestApp`, with what the observability specs also need: modules and
 * controllers of their own (terminus, a health controller) and a logger to read.
 */
export async function createObservedApp(options: {
  entities: Type<object>[];
  platform: Platform;
  module?: Partial<EntitiesModuleOptions>;
  imports?: (Type<unknown> | DynamicModule)[];
  controllers?: Type<unknown>[];
  providers?: Provider[];
  logger?: LoggerService;
}): Promise<TestApp> {
  const temp = makeTempDir('nde-obs-');

  @Module({
    imports: [EntitiesModule.forRoot({ ...options.module, path: temp.path }), EntitiesModule.forFeature(options.entities), ...(options.imports ?? [])],
    controllers: options.controllers ?? [],
    providers: options.providers ?? [],
  })
  class ObservedAppModule {}

  let app: INestApplication;
  try {
    const moduleRef = await Test.createTestingModule({ imports: [ObservedAppModule] }).compile();
    const logger = options.logger ?? false;
    if (options.platform === 'fastify') {
      app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ bodyLimit: 1024 * 1024 }), { logger });
    } else {
      app = moduleRef.createNestApplication<NestExpressApplication>(new ExpressAdapter(), { logger, bodyParser: false });
      (app as NestExpressApplication).useBodyParser('json', { limit: 1024 * 1024 });
    }
    await app.init();
    if (options.platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  } catch (error) {
    temp.remove();
    throw error;
  }
  return {
    app,
    server: () => app.getHttpServer(),
    path: temp.path,
    close: async () => {
      await app.close();
      temp.remove();
    },
  };
}

/** One line a `CapturingLogger` received. */
export interface CapturedLine {
  level: string;
  message: string;
  context?: string;
}

/** A Nest logger that keeps every line, for specs that check what was logged. */
export class CapturingLogger implements LoggerService {
  readonly lines: CapturedLine[] = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.keep('log', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.keep('error', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.keep('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.keep('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.keep('verbose', message, rest);
  }

  /** Lines of one context (`EntitiesQuery`, ...) at one level. */
  of(context: string, level = 'warn'): CapturedLine[] {
    return this.lines.filter((line) => line.context === context && line.level === level);
  }

  private keep(level: string, message: unknown, rest: unknown[]): void {
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    this.lines.push({ level, message: String(message), context });
  }
}
