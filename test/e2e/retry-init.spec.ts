import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EntitiesModule, Entity, Field, getRepositoryToken, type EntityRepository } from '../../lib/index.js';
import { STORE_FORMAT } from '../../lib/storage/store-format.util.js';
import { setStoreFormat } from '../support/store-format.util.js';
import { makeTempDir } from '../support/temp-dir.util.js';

@Entity('retry-notes')
class RetryNote {
  @Field() title!: string;
}

/**
 * EntitiesCoreModule.onModuleInit closes the storage when its open fails (abortOnError: false
 * leaves the app to the caller); Nest 12 lets init() run again on an app whose init failed.
 */
describe('an app whose first init failed, initialised again', () => {
  it('writes', async () => {
    const dir = makeTempDir('review-retry-');
    @Module({ imports: [EntitiesModule.forRoot({ path: dir.path }), EntitiesModule.forFeature([RetryNote])] })
    class AppModule {}
    try {
      const first = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication({ logger: false });
      await first.init();
      await first.close();
      // A transient cause of a failed start (here: the store refused for its format until it is set right).
      await setStoreFormat(dir.path, STORE_FORMAT + 1);
      const app = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication({ logger: false, abortOnError: false });
      await expect(app.init()).rejects.toThrow();
      await setStoreFormat(dir.path, STORE_FORMAT);
      await app.init();
      try {
        const notes = app.get<EntityRepository<RetryNote>>(getRepositoryToken(RetryNote));
        await expect(notes.create({ title: 'after retry' })).resolves.toMatchObject({ title: 'after retry' });
      } finally {
        await app.close();
      }
    } finally {
      dir.remove();
    }
  });
});
