import 'reflect-metadata';
import { Entity, Field, getRepositoryToken, type EntityRepository } from '../../../lib/index.js';
import { NatsCluster, natsServerMissing } from '../../support/nats-cluster.util.js';
import { describeWhen } from '../../support/requirement.util.js';
import { appInitialisedAfterAFailure } from '../../support/retried-init.util.js';
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
    try {
      const app = await appInitialisedAfterAFailure({ path: dir.path, replication }, [RepRetryNote]);
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
