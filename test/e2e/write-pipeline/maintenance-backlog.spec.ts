import 'reflect-metadata';
import { EntitiesMaintenance, Entity, Field, getRepositoryToken, type EntityRepository } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('backlog-notes')
class BacklogNote {
  @Field() title!: string;
}

/** More than one maintenance transaction removes of each kind (10,000). */
const BACKLOG = 10_050;

/**
 * README: `runMaintenance()` and `compact` purge expired idempotency keys and drop events past
 * the retention. A backlog larger than what one transaction removes is worked off in one run,
 * not 10,000 per hourly run (keys kept coming faster than that were never all purged).
 */
describe('maintenance over a backlog', () => {
  let app: TestApp;
  let notes: EntityRepository<BacklogNote>;
  beforeEach(async () => {
    app = await createTestApp({ entities: [BacklogNote], module: { idempotencyTtl: 1 } });
    notes = app.app.get<EntityRepository<BacklogNote>>(getRepositoryToken(BacklogNote));
    await notes.transaction((tx) => {
      for (let i = 0; i < BACKLOG; i++) tx.create(BacklogNote, { title: `n${i}` }, { idempotencyKey: `key-${i}` });
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
  });
  afterEach(async () => app.close());

  it('purges every expired idempotency key in one run', async () => {
    const maintenance = app.app.get(EntitiesMaintenance);
    expect((await maintenance.runMaintenance()).idempotencyKeys).toBe(BACKLOG);
    expect((await maintenance.runMaintenance()).idempotencyKeys).toBe(0);
  }, 120_000);

  it('drops every event past the retention in one run, keeping the newest', async () => {
    const storage = app.app.get(EntityStorage);
    const last = storage.log.lastSeq();
    const result = await storage.runMaintenance(Date.now(), { maxEvents: 1 });
    expect(result.events).toBe(last - 1);
    storage.renewSnapshot();
    expect(storage.log.firstSeq()).toBe(last);
    expect((await notes.create({ title: 'after' })).title).toBe('after');
  }, 120_000);
});
