import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { EntitiesModule, Entity, Field, Permission } from '../../../lib/index.js';
import { PLATFORMS } from '../../support/test-app.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('middleware-notes')
@Permission({ read: 'notes:read', create: 'notes:write' })
class Note {
  @Field() text!: string;
}

/**
 * README (Permissions): the default `getPrincipal` is `req.user`. A Nest middleware setting it
 * works on both platforms: on Fastify, a middleware is handed the Node request beneath
 * Fastify's, where the package finds it too.
 */
describe.each(PLATFORMS)('a principal a Nest middleware sets as req.user on %s', (platform) => {
  it('is the default principal', async () => {
    const dir = makeTempDir('middleware-principal-');
    @Module({ imports: [EntitiesModule.forRoot({ path: dir.path }), EntitiesModule.forFeature([Note])] })
    class AppModule implements NestModule {
      configure(consumer: MiddlewareConsumer): void {
        consumer
          .apply((req: { headers: Record<string, string | undefined>; user?: unknown }, _res: unknown, next: () => void) => {
            if (req.headers['x-user'] === 'writer') req.user = { id: 'writer', permissions: ['notes:read', 'notes:write'] };
            next();
          })
          .forRoutes('*path');
      }
    }
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication(platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
    await app.init();
    if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    try {
      await request(app.getHttpServer()).post('/middleware-notes').send({ text: 'anonymous' }).expect(401);
      const created = await request(app.getHttpServer()).post('/middleware-notes').set('x-user', 'writer').send({ text: 'signed in' }).expect(201);
      await request(app.getHttpServer()).get(`/middleware-notes/${created.body.id}`).set('x-user', 'writer').expect(200);
    } finally {
      await app.close();
      dir.remove();
    }
  });
});
