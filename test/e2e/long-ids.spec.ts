import { Controller, Get, Module, NotFoundException, Param, Post, UseInterceptors, type INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Audited, EntitiesModule, Entity, EntityErrorsInterceptor, EntityRepository, Field, InjectEntityRepository } from '../../lib/index.js';
import { makeTempDir } from '../support/temp-dir.util.js';
import { createTestApp, PLATFORMS, type Platform } from '../support/test-app.util.js';
import { expectNestError } from './support/e2e.util.js';

@Entity('long-id-items')
@Audited()
class Item {
  @Field() title!: string;
}

/** An app's own routes that hand the `:id` of the URL to the repository, as the sample's do. */
@Controller('long-id-items/:id')
@UseInterceptors(EntityErrorsInterceptor)
class ItemWorkflowController {
  constructor(@InjectEntityRepository(Item) private readonly items: EntityRepository<Item>) {}

  @Get('summary')
  async summary(@Param('id') id: string) {
    const item = await this.items.findById(id);
    if (!item) throw new NotFoundException(`item ${id.slice(0, 32)} not found`);
    return { item, history: await this.items.history(id) };
  }

  @Post('touch')
  touch(@Param('id') id: string) {
    return this.items.transaction((tx) => tx.update(Item, id, { title: 'touched' }));
  }
}

const LONG_ID = 'a'.repeat(5000);

/** Every generated route that takes an id, with a body where it needs one. */
const GENERATED_ROUTES: Array<[string, (agent: request.Agent, id: string) => request.Test]> = [
  ['GET /P/:id', (agent, id) => agent.get(`/long-id-items/${id}`)],
  ['PUT /P/:id', (agent, id) => agent.put(`/long-id-items/${id}`).send({ title: 'x' })],
  ['PATCH /P/:id', (agent, id) => agent.patch(`/long-id-items/${id}`).send({ title: 'x' })],
  ['DELETE /P/:id', (agent, id) => agent.delete(`/long-id-items/${id}`)],
  ['GET /P/:id/history', (agent, id) => agent.get(`/long-id-items/${id}/history`)],
  ['GET /P/:id/audit', (agent, id) => agent.get(`/long-id-items/${id}/audit`)],
];

/**
 * The entity's module with `ItemWorkflowController`. Fastify's router answers 414 to a
 * path parameter over its `routerOptions.maxParamLength` (100 by default) before any
 * handler runs; it is raised here so the ids reach the handlers, as in an app that raises it.
 */
async function createWorkflowApp(platform: Platform): Promise<{ app: INestApplication; close: () => Promise<void> }> {
  const dir = makeTempDir();
  @Module({
    imports: [EntitiesModule.forRoot({ path: dir.path }), EntitiesModule.forFeature([Item])],
    controllers: [ItemWorkflowController],
  })
  class WorkflowModule {}
  const moduleRef = await Test.createTestingModule({ imports: [WorkflowModule] }).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ routerOptions: { maxParamLength: 10_000 } }), { logger: false })
      : moduleRef.createNestApplication(new ExpressAdapter(), { logger: false });
  await app.init();
  if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  return {
    app,
    close: async () => {
      await app.close();
      dir.remove();
    },
  };
}

describe.each(PLATFORMS)('a 5,000-character id on %s', (platform) => {
  let t: Awaited<ReturnType<typeof createWorkflowApp>>;
  let agent: request.Agent;

  beforeAll(async () => {
    t = await createWorkflowApp(platform);
    agent = request.agent(t.app.getHttpServer());
  });

  afterAll(async () => {
    await t?.close();
  });

  it.each(GENERATED_ROUTES)('is answered 404 by %s', async (_route, send) => {
    expectNestError(await send(agent, LONG_ID), 404);
  });

  it("is answered 404 by the app's own routes that read it or change it through the repository", async () => {
    expectNestError(await agent.get(`/long-id-items/${LONG_ID}/summary`), 404);
    expectNestError(await agent.post(`/long-id-items/${LONG_ID}/touch`), 404);
  });

  it("is answered 404 by the app's own routes for an id outside the id alphabet too", async () => {
    expectNestError(await agent.get(`/long-id-items/caf%C3%A9/summary`), 404);
    expectNestError(await agent.post(`/long-id-items/a.b/touch`), 404);
  });
});

describe.each(PLATFORMS)("a 5,000-character id on %s with the platform's defaults", (platform) => {
  it('is never answered 500: Express reaches the route (404), Fastify refuses the path itself (414)', async () => {
    const t = await createTestApp({ entities: [Item], platform });
    try {
      for (const [, send] of GENERATED_ROUTES) {
        expect((await send(request.agent(t.server()), LONG_ID)).status).toBe(platform === 'express' ? 404 : 414);
      }
    } finally {
      await t.close();
    }
  });
});
