import { Entity, Field, getRepositoryToken, type EntityRepository } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { createTestApp } from '../../support/test-app.util.js';

@Entity('close-notes')
class CloseNote {
  @Field() title!: string;
}

/**
 * EntityStorage.close() awaits writerList.withdraw() (a write), then clears applier/eventLog/
 * idempotency and only then closes the environment. A repository write begun while that runs
 * passes checkRepositoryOpen (the environment is still open) and queues its callback in lmdb;
 * lmdb runs it during root.close(), where EntityStorage.transaction() throws a plain
 * `Error('the entity store is not open yet')`: an untyped error (HTTP 500) instead of the
 * StorageFailureException every other closed-store write gets.
 */
describe('writes begun while the app closes', () => {
  it('each either resolves durably or fails with StorageFailureException', async () => {
    const dir = makeTempDir('hunt-close-');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const app = await createTestApp({ entities: [CloseNote], path: dir.path });
      const repo = app.app.get<EntityRepository<CloseNote>>(getRepositoryToken(CloseNote));
      const outcomes: Promise<string>[] = [];
      let closed = false;
      const closing = app.app.close().then(() => (closed = true));
      for (let i = 0; !closed && i < 2000; i++) {
        outcomes.push(
          repo.create({ title: `t${i}` }).then(
            (record) => `ok ${record.id}`,
            (error: Error) => `${error.constructor.name}: ${error.message}`,
          ),
        );
        await new Promise((resolve) => setImmediate(resolve));
      }
      await closing;
      const results = await Promise.all(outcomes);

      const reopened = await createTestApp({ entities: [CloseNote], path: dir.path });
      const repo2 = reopened.app.get<EntityRepository<CloseNote>>(getRepositoryToken(CloseNote));
      for (const result of results) if (result.startsWith('ok ')) expect(await repo2.findById(result.slice(3))).not.toBeNull();
      await reopened.app.close();

      expect(unhandled).toEqual([]);
      expect(results.filter((result) => !result.startsWith('ok ') && !result.startsWith('StorageFailureException: '))).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      dir.remove();
    }
  });
});
