import {
  AccessDeniedException,
  Entity,
  EntityRepository,
  EntityTransaction,
  Field,
  getRepositoryToken,
  Permission,
  RecordNotFoundException,
} from '../../../lib/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('id-notes')
class Note {
  @Field() title!: string;
}

@Entity('id-guarded-notes')
@Permission({ read: 'g:read', create: 'g:create', update: 'g:update', delete: 'g:delete', history: 'g:read' })
class GuardedNote {
  @Field() title!: string;
}

/** Ids no record can have: far past lmdb's key size, past the id rule's length, and outside its alphabet. */
const IMPOSSIBLE_IDS = ['a'.repeat(5000), 'b'.repeat(129), '', 'a/b', 'caf\u00e9', 'a\u0000b', ' '];
/** Each id with a short label for the test name. */
const CASES = IMPOSSIBLE_IDS.map((id) => [id.length > 20 ? `${id.slice(0, 8)}… (${id.length} characters)` : JSON.stringify(id), id]);

describe('ids no record can have, given to the repository', () => {
  let t: TestApp;
  let notes: EntityRepository<Note>;
  let guarded: EntityRepository<GuardedNote>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Note, GuardedNote] });
    notes = t.app.get(getRepositoryToken(Note));
    guarded = t.app.get(getRepositoryToken(GuardedNote));
  });

  afterAll(async () => {
    await t?.close();
  });

  const eventCount = async () => (await notes.events({ limit: 100_000 })).length;

  it.each(CASES)('reads %s as missing: findById and history answer null', async (_label, id) => {
    expect(await notes.findById(id)).toBeNull();
    expect(await notes.findById(id, { principal: null })).toBeNull();
    expect(await notes.history(id)).toBeNull();
  });

  it.each(CASES)('answers replace, update and delete of %s with RecordNotFoundException, writing nothing', async (_label, id) => {
    const events = await eventCount();
    await expect(notes.replace(id, { title: 'x' })).rejects.toThrow(RecordNotFoundException);
    await expect(notes.update(id, { title: 'x' })).rejects.toThrow(RecordNotFoundException);
    await expect(notes.delete(id, { principal: null })).rejects.toThrow(RecordNotFoundException);
    expect(await eventCount()).toBe(events);
  });

  it('keeps the message of RecordNotFoundException short whatever the length of the id', async () => {
    const error = await notes.update('a'.repeat(5000), { title: 'x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RecordNotFoundException);
    expect((error as Error).message.length).toBeLessThan(120);
  });

  it('reads such an id as missing inside a transaction, and a change of it rolls the transaction back', async () => {
    const long = 'a'.repeat(5000);
    expect(await notes.transaction((tx) => tx.findById(Note, long))).toBeNull();
    const title = `rolled back ${Date.now()}`;
    const changes: Array<(tx: EntityTransaction) => unknown> = [
      (tx) => tx.update(Note, long, { title: 'x' }),
      (tx) => tx.replace(Note, long, { title: 'x' }),
      (tx) => tx.delete(Note, long),
    ];
    for (const change of changes) {
      await expect(
        notes.transaction((tx) => {
          tx.create(Note, { title });
          change(tx);
        }),
      ).rejects.toThrow(RecordNotFoundException);
    }
    expect((await notes.find({ where: { title } })).items).toEqual([]);
  });

  it('checks the principal before the id, so a refused principal learns nothing from it', async () => {
    const nobody = { id: 'nobody' };
    for (const call of [
      () => guarded.findById('a'.repeat(5000), { principal: nobody }),
      () => guarded.history('a'.repeat(5000), { principal: nobody }),
      () => guarded.update('a'.repeat(5000), { title: 'x' }, { principal: nobody }),
      () => guarded.delete('a'.repeat(5000), { principal: nobody }),
    ]) {
      await expect(call()).rejects.toThrow(AccessDeniedException);
    }
  });
});
