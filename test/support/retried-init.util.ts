import { Module, type INestApplication, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EntitiesModule, type EntitiesModuleOptions } from '../../lib/index.js';
import { STORE_FORMAT } from '../../lib/storage/store-format.util.js';
import { setStoreFormat } from './store-format.util.js';

/**
 * An app of `entities` on `options.path`, started and closed once, then started again with an
 * init that fails for a cause that goes away (a store format of a newer release, set right
 * before the retry) and is run again, as Nest 12 allows with `abortOnError: false`. Resolves
 * to the app, initialised; the caller closes it.
 */
export async function appInitialisedAfterAFailure(options: EntitiesModuleOptions & { path: string }, entities: Type<object>[]): Promise<INestApplication> {
  @Module({ imports: [EntitiesModule.forRoot(options), EntitiesModule.forFeature(entities)] })
  class AppModule {}
  const first = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication({ logger: false });
  await first.init();
  await first.close();
  await setStoreFormat(options.path, STORE_FORMAT + 1);
  const app = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication({ logger: false, abortOnError: false });
  await expect(app.init()).rejects.toThrow();
  await setStoreFormat(options.path, STORE_FORMAT);
  await app.init();
  return app;
}
