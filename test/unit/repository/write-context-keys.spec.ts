import { Audited, AuditService, Entity, EntityRepository, Field, getRepositoryToken, InvalidRecordException } from '../../../lib/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('keyed-notes')
@Audited()
class Note {
  @Field() title!: string;
}

const LONG = 'a'.repeat(5000);

/** Actors and idempotency keys become parts of LMDB keys (audit by actor, idempotency), which LMDB bounds. */
describe('actors and idempotency keys given to the repository', () => {
  let t: TestApp;
  let notes: EntityRepository<Note>;
  let audit: AuditService;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Note] });
    notes = t.app.get(getRepositoryToken(Note));
    audit = t.app.get(AuditService);
  });

  afterAll(async () => {
    await t?.close();
  });

  const eventCount = async () => (await notes.events({ limit: 100_000 })).length;

  it.each([
    ['a 5,000-character actor', { actor: LONG }],
    ['an actor with a control character', { actor: 'a\u0000b' }],
    ['an empty actor', { actor: '' }],
    ['a 5,000-character idempotency key', { idempotencyKey: LONG }],
    ['an idempotency key with a space', { idempotencyKey: 'a b' }],
    ['a principal with a 5,000-character id', { principal: { id: LONG } }],
  ])('refuses %s with InvalidRecordException and writes nothing', async (_label, context) => {
    const created = await notes.create({ title: 'kept' });
    const events = await eventCount();
    await expect(notes.create({ title: 'x' }, context)).rejects.toThrow(InvalidRecordException);
    await expect(notes.createMany([{ title: 'x' }], context)).rejects.toThrow(InvalidRecordException);
    await expect(notes.update(created.id, { title: 'y' }, context)).rejects.toThrow(InvalidRecordException);
    await expect(notes.delete(created.id, context)).rejects.toThrow(InvalidRecordException);
    expect(await eventCount()).toBe(events);
  });

  it('accepts an actor of 256 characters and an idempotency key of 255', async () => {
    const actor = 'b'.repeat(256);
    const created = await notes.create({ title: 'x' }, { actor, idempotencyKey: 'k'.repeat(255) });
    expect((await audit.forRecord('keyed-notes', created.id)).map((entry) => entry.actor)).toEqual([actor]);
  });

  it('finds no audit entries for an actor, id or entity name no write accepts, instead of failing', async () => {
    await expect(audit.find({ actor: LONG })).resolves.toEqual({ items: [], nextCursor: null });
    await expect(audit.find({ entity: 'keyed-notes', id: LONG })).resolves.toEqual({ items: [], nextCursor: null });
    await expect(audit.find({ entity: LONG })).resolves.toEqual({ items: [], nextCursor: null });
    await expect(audit.forRecord('keyed-notes', LONG)).resolves.toEqual([]);
    await expect(audit.forRecord(LONG, 'x')).resolves.toEqual([]);
  });
});
