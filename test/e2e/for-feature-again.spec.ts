import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getMetadataStorage } from 'class-validator';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import request from 'supertest';
import { EntitiesModule, Entity, Field, Index, Permission, Reference } from '../../lib/index.js';
import { makeTempDir } from '../support/temp-dir.util.js';

@Entity('again-sites')
class AgainSite {
  @Field() name!: string;
}

@Entity('again-notes')
@Permission({ read: null, create: null, update: null, delete: null })
class AgainNote {
  @Field() title!: string;
  @Index() @Field({ required: false }) tag?: string;
  @Reference(() => AgainSite) @Field({ required: false }) site?: string;
}

/** class-validator's process-wide storage: every class it was shown rules for. */
const validatedClasses = () => (getMetadataStorage() as unknown as { validationMetadatas: Map<unknown, unknown[]> }).validationMetadatas.size;

/**
 * A process may make many apps of the same entity classes (a test suite, hot reload):
 * `forFeature` builds an entity's DTOs once per class, since class-validator keeps every DTO
 * class it is shown for as long as the process runs, and nothing else keeps the controllers a
 * call built once its module is gone (~170 KB per call before).
 */
describe('EntitiesModule.forFeature called again for the same classes', () => {
  it('builds their DTOs once', () => {
    EntitiesModule.forFeature([AgainSite, AgainNote]);
    const classes = validatedClasses();
    for (let i = 0; i < 50; i++) EntitiesModule.forFeature([AgainSite, AgainNote]);
    expect(validatedClasses()).toBe(classes);
  });

  it('leaves nothing of a call behind once its module is dropped', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // WeakRefs made in a job hold their targets until it ends: the heap is weighed between jobs.
    const heapAfterGc = async () => {
      for (let i = 0; i < 2; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        gc();
      }
      return process.memoryUsage().heapUsed;
    };
    for (let i = 0; i < 20; i++) EntitiesModule.forFeature([AgainSite, AgainNote]);
    const before = await heapAfterGc();
    for (let i = 0; i < 200; i++) {
      EntitiesModule.forFeature([AgainSite, AgainNote]);
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    // Each call kept ~170 KB before (34 MB for these 200).
    expect((await heapAfterGc()) - before).toBeLessThan(5_000_000);
  });

  it('serves the same routes in each app made of them', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = makeTempDir('for-feature-again-');
      @Module({ imports: [EntitiesModule.forRoot({ path: dir.path }), EntitiesModule.forFeature([AgainSite, AgainNote])] })
      class AppModule {}
      const app = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication({ logger: false });
      await app.init();
      try {
        const site = await request(app.getHttpServer())
          .post('/again-sites')
          .send({ name: `site ${round}` })
          .expect(201);
        await request(app.getHttpServer()).post('/again-notes').send({ title: 'n', site: site.body.id }).expect(201);
        await request(app.getHttpServer()).post('/again-notes').send({ title: 'n', unknown: 1 }).expect(400);
        const nested = await request(app.getHttpServer()).get(`/again-sites/${site.body.id}/again-notes`).expect(200);
        expect(nested.body.items).toHaveLength(1);
      } finally {
        await app.close();
        dir.remove();
      }
    }
  });
});
