import { Entity, EntityRepository, Field, getRepositoryToken } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createTestApp } from '../../support/test-app.util.js';

@Entity('feed-notes')
class Note {
  @Field() title!: string;
}

/**
 * README (Live changes) / EntityStorage.subscriptions.end: when the app shuts down, open
 * subscriptions end (their iterators finish). A subscriber that is behind (mid-batch) or has
 * not pulled its first change yet instead gets an exception from the closed store.
 */
describe('subscribe() at app close', () => {
  it('a subscriber behind the log finishes instead of throwing', async () => {
    const t = await createTestApp({ entities: [Note] });
    const notes: EntityRepository<Note> = t.app.get(getRepositoryToken(Note));
    for (let i = 0; i < 3; i++) await notes.create({ title: `n${i}` });
    const changes = notes.subscribe({ afterSeq: 0 });
    expect((await changes.next()).value?.seq).toBe(1);
    await t.close();
    await expect(changes.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('a subscription not yet iterated when the app closes finishes instead of throwing', async () => {
    const t = await createTestApp({ entities: [Note] });
    const notes: EntityRepository<Note> = t.app.get(getRepositoryToken(Note));
    const changes = notes.subscribe();
    await t.close();
    await expect(changes.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('a subscription the close ended stays ended once the store opens again', async () => {
    const t = await createTestApp({ entities: [Note] });
    const notes: EntityRepository<Note> = t.app.get(getRepositoryToken(Note));
    const storage = t.app.get(EntityStorage);
    const changes = notes.subscribe({ afterSeq: 0 });
    await notes.create({ title: 'one' });
    await notes.create({ title: 'two' });
    // Paused at its yield while the store closes and opens again.
    expect((await changes.next()).done).toBe(false);
    await storage.close();
    await storage.open();
    try {
      await notes.create({ title: 'three' });
      await expect(changes.next()).resolves.toEqual({ done: true, value: undefined });
    } finally {
      await t.close();
    }
  });
});
