import { Entity, EntityRepository, Field, getRepositoryToken, Historize, InvalidQueryException, Permission, type Principal } from '../../../lib/index.js';
import { asPrincipal, http, principalFromHeader } from '../../e2e/support/e2e.util.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('view-notes')
@Historize('full')
class Note {
  @Field() title!: string;
  @Field({ required: false, hidden: true }) reviewerNotes?: string;
  @Field({ required: false })
  @Permission({ read: 'notes:finance', write: 'notes:finance' })
  fee?: number;
}

const CLERK: Principal = { id: 'clerk' };
const FINANCE: Principal = { id: 'finance', permissions: ['notes:finance'] };
const MANAGED = { id: expect.any(String), version: expect.any(Number), createdAt: expect.any(String), updatedAt: expect.any(String) };

describe('records the repository returns', () => {
  let t: TestApp;
  let notes: EntityRepository<Note>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Note], module: { getPrincipal: principalFromHeader } });
    notes = t.app.get(getRepositoryToken(Note));
  });

  afterAll(async () => {
    await t?.close();
  });

  /** A note with every field set, written by trusted code. */
  const seed = (title = 'seed') => notes.create({ title, reviewerNotes: 'internal', fee: 120 });

  describe('to a call made with a principal', () => {
    it('leave out hidden fields and the fields that principal may not read, on findById and find', async () => {
      const { id } = await seed('read');
      expect(await notes.findById(id, { principal: CLERK })).toEqual({ ...MANAGED, id, title: 'read' });
      expect(await notes.findById(id, { principal: null })).toEqual({ ...MANAGED, id, title: 'read' });
      expect(await notes.findById(id, { principal: FINANCE })).toEqual({ ...MANAGED, id, title: 'read', fee: 120 });
      const page = await notes.find({ where: { title: 'read' } }, { principal: FINANCE });
      expect(page.items).toEqual([{ ...MANAGED, id, title: 'read', fee: 120 }]);
    });

    it('leave them out of what create, createMany, replace and update return', async () => {
      const created = await notes.create({ title: 'written', reviewerNotes: 'by a clerk' }, { principal: CLERK });
      expect(created).toEqual({ ...MANAGED, title: 'written' });
      const batch = await notes.createMany([{ title: 'b1', reviewerNotes: 'x' }, { title: 'b2' }], { principal: null });
      expect(batch).toEqual([
        { ...MANAGED, title: 'b1' },
        { ...MANAGED, title: 'b2' },
      ]);
      const { id } = await seed('changed');
      expect(await notes.replace(id, { title: 'replaced', reviewerNotes: 'new' }, { principal: CLERK })).toEqual({ ...MANAGED, id, title: 'replaced' });
      expect(await notes.update(id, { title: 'updated' }, { principal: FINANCE })).toEqual({ ...MANAGED, id, title: 'updated', fee: 120 });
      expect(await notes.findById(id)).toEqual(expect.objectContaining({ reviewerNotes: 'new', fee: 120 }));
    });

    it('leave them out of what a transaction run for that principal returns and reads', async () => {
      const { id } = await seed('in a transaction');
      const results = await notes.transaction(
        (tx) => ({
          read: tx.findById(Note, id),
          updated: tx.update(Note, id, { reviewerNotes: 'changed' }),
          created: tx.create(Note, { title: 'made', reviewerNotes: 'x' }),
          asFinance: tx.findById(Note, id, { principal: FINANCE }),
        }),
        { principal: CLERK },
      );
      expect(results).toEqual({
        read: { ...MANAGED, id, title: 'in a transaction' },
        updated: { ...MANAGED, id, title: 'in a transaction' },
        created: { ...MANAGED, title: 'made' },
        asFinance: { ...MANAGED, id, title: 'in a transaction', fee: 120 },
      });
    });

    it('are the records the generated routes answer that principal', async () => {
      const { id } = await seed('same view');
      for (const principal of [CLERK, FINANCE]) {
        const response = await http(t).get(`/view-notes/${id}`).set(asPrincipal(principal));
        expect(response.status).toBe(200);
        expect(await notes.findById(id, { principal })).toEqual(response.body);
        const list = await http(t).get('/view-notes').query({ title: 'same view' }).set(asPrincipal(principal));
        expect((await notes.find({ where: { title: 'same view' } }, { principal })).items).toEqual(list.body.items);
      }
    });

    it('leave hidden fields out of the history read for that principal', async () => {
      const { id } = await seed('history');
      await notes.update(id, { reviewerNotes: 'second thoughts' });
      expect(Object.keys((await notes.history(id, { principal: FINANCE }))!.fields).sort()).toEqual(['fee', 'title']);
      expect(Object.keys((await notes.history(id, { principal: CLERK }))!.fields)).toEqual(['title']);
      expect(Object.keys((await notes.history(id))!.fields).sort()).toEqual(['fee', 'reviewerNotes', 'title']);
    });

    it('page the history read for that principal, and refuse a page that is not one', async () => {
      const { id } = await seed('paged');
      for (const title of ['p2', 'p3', 'p4']) await notes.update(id, { title });
      const titles = async (options: Parameters<typeof notes.history>[1]) => (await notes.history(id, options))!.fields['title']!.map((entry) => entry.value);
      expect(await titles({ principal: CLERK, limit: 2 })).toEqual(['p4', 'p3']);
      expect(await titles({ principal: CLERK, limit: 2, before: 3 })).toEqual(['p2', 'paged']);
      expect(await titles({ before: 2 })).toEqual(['paged']);
      expect(Object.keys((await notes.history(id, { field: 'title', limit: 1 }))!.fields)).toEqual(['title']);
      // Trusted code reads a hidden field's history; a principal is told it has none, as of a missing one.
      expect(Object.keys((await notes.history(id, { field: 'reviewerNotes' }))!.fields)).toEqual(['reviewerNotes']);
      await expect(notes.history(id, { principal: FINANCE, field: 'reviewerNotes' })).rejects.toThrow('view-notes has no historized field reviewerNotes');
      await expect(notes.history(id, { principal: CLERK, field: 'fee' })).rejects.toThrow('view-notes has no historized field fee');
      expect(Object.keys((await notes.history(id, { principal: FINANCE, field: 'fee' }))!.fields)).toEqual(['fee']);
      for (const bad of [{ limit: 0 }, { limit: 1.5 }, { before: -1 }, { before: Number.NaN }, { field: 'nope' }, { field: 3 as unknown as string }]) {
        await expect(notes.history(id, bad)).rejects.toThrow(InvalidQueryException);
      }
    });

    it('cannot be filtered or sorted on a hidden field, which is refused as an unknown field is over HTTP', async () => {
      await expect(notes.find({ where: { reviewerNotes: 'internal' } }, { principal: FINANCE })).rejects.toThrow(InvalidQueryException);
      await expect(notes.find({ sort: '-reviewerNotes' }, { principal: null })).rejects.toThrow(InvalidQueryException);
      await expect(notes.find({ where: { reviewerNotes: 'internal' }, limit: 1 })).resolves.toEqual(expect.objectContaining({ items: expect.any(Array) }));
    });
  });

  describe('to trusted code (no principal key)', () => {
    it('keep hidden fields and fields with read rules, on reads and writes alike', async () => {
      const created = await seed('trusted');
      expect(created).toEqual({ ...MANAGED, title: 'trusted', reviewerNotes: 'internal', fee: 120 });
      expect(await notes.findById(created.id)).toEqual(created);
      expect((await notes.find({ where: { title: 'trusted' } })).items).toEqual([created]);
      expect(await notes.update(created.id, { title: 'trusted too' })).toEqual({ ...created, title: 'trusted too', version: 2, updatedAt: expect.any(String) });
      expect(await notes.transaction((tx) => tx.findById(Note, created.id))).toEqual(expect.objectContaining({ reviewerNotes: 'internal', fee: 120 }));
    });
  });

  describe('view(record, principal?)', () => {
    it('shapes a record trusted code read as the generated routes answer that principal, anonymous when left out', async () => {
      const record = (await notes.findById((await seed('viewed')).id))!;
      expect(notes.view(record)).toEqual({ ...MANAGED, id: record.id, title: 'viewed' });
      expect(notes.view(record, null)).toEqual({ ...MANAGED, id: record.id, title: 'viewed' });
      expect(notes.view(record, CLERK)).toEqual({ ...MANAGED, id: record.id, title: 'viewed' });
      const response = await http(t).get(`/view-notes/${record.id}`).set(asPrincipal(FINANCE));
      expect(notes.view(record, FINANCE)).toEqual(response.body);
      expect(record).toEqual(expect.objectContaining({ reviewerNotes: 'internal' }));
    });
  });
});
