import { Controller, Get, Module } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { EntitiesModule, Entity, Field } from '../../lib/index.js';
import { PLATFORMS } from '../support/test-app.util.js';
import { makeTempDir } from '../support/temp-dir.util.js';

@Entity('own-route-permits')
class Permit {
  @Field() number!: string;
}

@Controller('own-route-permits')
class PermitStatsController {
  @Get('stats')
  stats(): { count: number } {
    return { count: 42 };
  }
}

@Module({ controllers: [PermitStatsController] })
class PermitStatsModule {}

/** README (Routes of your own beside the generated ones): a module imported before forFeature serves its routes under the entity's path. */
describe.each(PLATFORMS)("a route of the app's own under an entity's path on %s", (platform) => {
  it('is answered when its module comes before EntitiesModule.forFeature', async () => {
    const dir = makeTempDir('own-routes-');
    @Module({ imports: [PermitStatsModule, EntitiesModule.forRoot({ path: dir.path }), EntitiesModule.forFeature([Permit])] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication(platform === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
    await app.init();
    if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    try {
      expect((await request(app.getHttpServer()).get('/own-route-permits/stats')).body).toEqual({ count: 42 });
      const created = await request(app.getHttpServer()).post('/own-route-permits').send({ number: 'P-1' }).expect(201);
      await request(app.getHttpServer()).get(`/own-route-permits/${created.body.id}`).expect(200);
    } finally {
      await app.close();
      dir.remove();
    }
  });
});
