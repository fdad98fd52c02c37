import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { EntitiesModule, Entity, Field, getRepositoryToken, type EntityRepository } from '../../lib/index.js';
import { STORE_FORMAT } from '../../lib/storage/store-format.util.js';
import { setStoreFormat } from '../support/store-format.util.js';
import { makeTempDir } from '../support/temp-dir.util.js';

@Entity('retry-left-notes')
class RetryLeftNote {
  @Field() title!: string;
}

/** A failed init (`abortOnError: false`) closes what it opened; an init run again must bring it all back. */
describe('an app initialised again after a failed init', () => {
  const dir = makeTempDir('retry-left-');
  const registry = new Registry();
  @Module({
    imports: [EntitiesModule.forRoot({ path: dir.path, metrics: { enabled: true, registry, path: false } }), EntitiesModule.forFeature([RetryLeftNote])],
  })
  class AppModule {}
  let app: Awaited<ReturnType<typeof start>>;
  async function start() {
    const first = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication({ logger: false });
    await first.init();
    await first.close();
    await setStoreFormat(dir.path, STORE_FORMAT + 1);
    const retried = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication({ logger: false, abortOnError: false });
    await expect(retried.init()).rejects.toThrow();
    await setStoreFormat(dir.path, STORE_FORMAT);
    await retried.init();
    return retried;
  }
  beforeAll(async () => (app = await start()));
  afterAll(async () => {
    await app.close();
    dir.remove();
  });

  it('keeps its metrics registered', () => {
    expect(registry.getSingleMetric('entities_http_requests_total')).toBeDefined();
  });

  it('delivers changes to a subscriber', async () => {
    const notes = app.get<EntityRepository<RetryLeftNote>>(getRepositoryToken(RetryLeftNote));
    const changes = notes.subscribe();
    const next = changes.next();
    await notes.create({ title: 'after retry' });
    const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 2_000).unref());
    const first = (await Promise.race([next, timeout])) as IteratorResult<unknown> | 'timeout';
    expect(first === 'timeout' ? 'timeout' : first.done).toBe(false);
    await changes.return?.(undefined);
  });
});
