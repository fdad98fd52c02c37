import 'reflect-metadata';
import { Entity, Field, getRepositoryToken, type EntityRepository } from '../../lib/index.js';
import { appInitialisedAfterAFailure } from '../support/retried-init.util.js';
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
    try {
      const app = await appInitialisedAfterAFailure({ path: dir.path }, [RetryNote]);
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
