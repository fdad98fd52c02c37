import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { EntitiesModule, Entity, Field, getRepositoryToken, type EntityRepository } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('mdi-notes')
class MdiNote {
  @Field() title!: string;
}

/**
 * README (Metrics): the metrics are registered at the app's init and taken out at its close.
 * An app whose providers fail to build (one of its own throws) runs no lifecycle hook, so it
 * must not have registered them: the next app of the process (a retry, the next test) would
 * fail on their names.
 */
describe('metrics of an app whose providers failed to build', () => {
  it('are freed, so the next app in the process starts', async () => {
    const dir = makeTempDir('metrics-failed-build-');
    const CONFIG = Symbol('CONFIG');
    try {
      @Module({
        imports: [EntitiesModule.forRoot({ path: dir.path, metrics: { enabled: true } }), EntitiesModule.forFeature([MdiNote])],
        providers: [
          {
            provide: CONFIG,
            useFactory: () => {
              throw new Error('bad config');
            },
          },
        ],
      })
      class BrokenModule {}
      await expect(Test.createTestingModule({ imports: [BrokenModule] }).compile()).rejects.toThrow('bad config');

      @Module({ imports: [EntitiesModule.forRoot({ path: dir.path, metrics: { enabled: true } }), EntitiesModule.forFeature([MdiNote])] })
      class GoodModule {}
      const app = (await Test.createTestingModule({ imports: [GoodModule] }).compile()).createNestApplication({ logger: false });
      await app.init();
      try {
        const notes = app.get<EntityRepository<MdiNote>>(getRepositoryToken(MdiNote));
        await expect(notes.create({ title: 'x' })).resolves.toMatchObject({ title: 'x' });
      } finally {
        await app.close();
      }
    } finally {
      register.clear();
      dir.remove();
    }
  });
});
