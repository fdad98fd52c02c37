import { Module, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EntitiesModule } from '../../lib/index.js';
import { makeTempDir } from './temp-dir.util.js';

/** Boots an app over `features` (one forFeature each) on a store of its own; resolves with what start-up threw. */
export async function startUpFailure(...features: Type<object>[][]): Promise<unknown> {
  const dir = makeTempDir();
  try {
    @Module({ imports: [EntitiesModule.forRoot({ path: dir.path }), ...features.map((entities) => EntitiesModule.forFeature(entities))] })
    class FailingModule {}
    const moduleRef = await Test.createTestingModule({ imports: [FailingModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.init();
    } finally {
      await app.close();
    }
    return undefined;
  } catch (error) {
    return error;
  } finally {
    dir.remove();
  }
}
