import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EntitiesModule, Entity, Field, getRepositoryToken, type EntityRepository } from '../../../lib/index.js';
import { STORE_FORMAT } from '../../../lib/storage/store-format.util.js';
import { NatsCluster, natsServerMissing } from '../../support/nats-cluster.util.js';
import { describeWhen } from '../../support/requirement.util.js';
import { setStoreFormat } from '../../support/store-format.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('rep-retry-notes')
class RepRetryNote {
  @Field() title!: string;
}

/**
 * Nest 12 lets init() run again on an app whose init failed (`abortOnError: false`), as
 * retry-init.spec.ts shows without replication: a replicated store follows its stream
 * afresh then, and takes writes.
 */
describeWhen(natsServerMissing(), 'the replication suite')('a replicated app whose first init failed, initialised again', () => {
  it('writes', async () => {
    const cluster = await NatsCluster.start(1);
    const dir = makeTempDir('retry-init-replicated-');
    const replication = { servers: cluster.servers, stream: 'RETRY_INIT', replicas: 1, timeout: 5_000 };
    @Module({ imports: [EntitiesModule.forRoot({ path: dir.path, replication }), EntitiesModule.forFeature([RepRetryNote])] })
    class AppModule {}
    try {
      const first = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication({ logger: false });
      await first.init();
      await first.close();
      // A cause that goes away: a store format from a newer version of the package.
      await setStoreFormat(dir.path, STORE_FORMAT + 1);
      const app = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication({ logger: false, abortOnError: false });
      await expect(app.init()).rejects.toThrow();
      await setStoreFormat(dir.path, STORE_FORMAT);
      await app.init();
      try {
        const notes = app.get<EntityRepository<RepRetryNote>>(getRepositoryToken(RepRetryNote));
        await expect(notes.create({ title: 'after retry' })).resolves.toMatchObject({ title: 'after retry' });
      } finally {
        await app.close();
      }
    } finally {
      dir.remove();
      await cluster.stop();
    }
  }, 60_000);
});
