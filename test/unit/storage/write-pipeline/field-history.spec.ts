import { Entity, Field, Historize } from '../../../../lib/index.js';
import { makeTempDir } from '../../../support/temp-dir.util.js';
import { ISO, NEVER_USED_ID, openStore, type OpenStore } from './store-harness.util.js';

@Entity('hist-permits')
@Historize({ versions: 2 })
class Permit {
  @Field() @Historize('full') status!: string;
  @Field() county!: string;
  @Field({ required: false }) @Historize('full') note?: string;
  @Field({ required: false }) @Historize('never') amount?: number;
  @Field({ required: false, hidden: true }) @Historize('full') secret?: string;
}

@Entity('hist-notes')
class Note {
  @Field() @Historize({ versions: 3 }) text!: string;
  @Field({ required: false }) tag?: string;
}

@Entity('hist-ledgers')
class Ledger {
  @Field() @Historize({ versions: 20 }) balance!: number;
  @Field() @Historize({ versions: 2 }) owner!: string;
}

describe('EntityRepository.history', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore;

  beforeEach(async () => {
    dir = makeTempDir();
    store = await openStore(dir.path, [Permit, Note, Ledger]);
  });

  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  it('trims each field to its own policy, many or few versions kept, whatever the fields and records beside it hold', async () => {
    const ledgers = store.repo(Ledger);
    const a = await ledgers.create({ balance: 0, owner: 'ann' });
    const b = await ledgers.create({ balance: 0, owner: 'bo' });
    for (let i = 1; i <= 30; i++) await ledgers.update(a.id, { balance: i, ...(i % 10 === 0 && { owner: `ann${i}` }) });
    for (let i = 1; i <= 3; i++) await ledgers.update(b.id, { balance: i });

    const values = (entries: Array<{ value: unknown }> | undefined) => entries?.map((entry) => entry.value);
    const first = await ledgers.history(a.id);
    expect(values(first?.fields['balance'])).toEqual(Array.from({ length: 20 }, (_, k) => 30 - k));
    expect(values(first?.fields['owner'])).toEqual(['ann30', 'ann20']);
    const second = await ledgers.history(b.id);
    expect(values(second?.fields['balance'])).toEqual([3, 2, 1, 0]);
    expect(values(second?.fields['owner'])).toEqual(['bo']);
  });

  it("keeps every value of a 'full' field, newest first, with version, time and actor", async () => {
    const permits = store.repo(Permit);
    const v1 = await permits.create({ status: 'draft', county: 'Kent' }, { actor: 'alice' });
    const v2 = await permits.update(v1.id, { status: 'review' }, { actor: 'bob' });
    const v3 = await permits.update(v1.id, { status: 'issued' }, { actor: 'carol' });

    const history = await permits.history(v1.id);
    expect(history?.id).toBe(v1.id);
    expect(history?.fields['status']).toEqual([
      { value: 'issued', version: 3, at: v3.updatedAt, actor: 'carol' },
      { value: 'review', version: 2, at: v2.updatedAt, actor: 'bob' },
      { value: 'draft', version: 1, at: v1.updatedAt, actor: 'alice' },
    ]);
    for (const entry of history!.fields['status']!) expect(entry.at).toMatch(ISO);
  });

  it('keeps only the N most recent values of a { versions: N } field, the current one included', async () => {
    const notes = store.repo(Note);
    const note = await notes.create({ text: 't1' });
    for (const text of ['t2', 't3', 't4', 't5']) await notes.update(note.id, { text });

    const history = await notes.history(note.id);
    expect(history?.fields['text']?.map(({ value, version }) => ({ value, version }))).toEqual([
      { value: 't5', version: 5 },
      { value: 't4', version: 4 },
      { value: 't3', version: 3 },
    ]);
    expect(store.storage.verify()).toEqual(expect.objectContaining({ ok: true, problems: [] }));
  });

  it('applies a class-level @Historize to fields without their own and lets a property policy override it', async () => {
    const permits = store.repo(Permit);
    const permit = await permits.create({ status: 's1', county: 'c1' });
    for (let i = 2; i <= 4; i++) await permits.update(permit.id, { status: `s${i}`, county: `c${i}` });

    const history = await permits.history(permit.id);
    expect(history?.fields['county']?.map((entry) => entry.value)).toEqual(['c4', 'c3']);
    expect(history?.fields['status']?.map((entry) => entry.value)).toEqual(['s4', 's3', 's2', 's1']);
  });

  it("keeps no history for a 'never' field nor for a field without any policy", async () => {
    const permit = await store.repo(Permit).create({ status: 'a', county: 'b', amount: 1 });
    await store.repo(Permit).update(permit.id, { amount: 2 });
    const note = await store.repo(Note).create({ text: 'x', tag: 't1' });
    await store.repo(Note).update(note.id, { tag: 't2' });

    expect(Object.keys((await store.repo(Permit).history(permit.id))!.fields).sort()).toEqual(['county', 'note', 'secret', 'status']);
    expect(Object.keys((await store.repo(Note).history(note.id))!.fields)).toEqual(['text']);
  });

  it('records null when an update clears an optional field', async () => {
    const permits = store.repo(Permit);
    const permit = await permits.create({ status: 'a', county: 'b', note: 'first' });
    const cleared = await permits.update(permit.id, { note: null } as never, { actor: 'bob' });
    expect(cleared).not.toHaveProperty('note');

    expect((await permits.history(permit.id))?.fields['note']).toEqual([
      { value: null, version: 2, at: cleared.updatedAt, actor: 'bob' },
      { value: 'first', version: 1, at: permit.updatedAt },
    ]);
  });

  it('records null when a replace leaves an optional field out', async () => {
    const permits = store.repo(Permit);
    const permit = await permits.create({ status: 'a', county: 'b', note: 'first' });
    const replaced = await permits.replace(permit.id, { status: 'a', county: 'b' });

    expect((await permits.history(permit.id))?.fields['note']?.map(({ value, version }) => ({ value, version }))).toEqual([
      { value: null, version: 2 },
      { value: 'first', version: 1 },
    ]);
    expect(replaced.version).toBe(2);
  });

  it('starts the history of an optional field at the version that first set it', async () => {
    const permits = store.repo(Permit);
    const permit = await permits.create({ status: 'a', county: 'b' });
    await permits.update(permit.id, { status: 'b' });
    await permits.update(permit.id, { note: 'later' });

    expect((await permits.history(permit.id))?.fields['note']?.map(({ value, version }) => ({ value, version }))).toEqual([{ value: 'later', version: 3 }]);
  });

  it('keeps the history of a deleted record readable', async () => {
    const permits = store.repo(Permit);
    const permit = await permits.create({ status: 'a', county: 'b' }, { actor: 'alice' });
    await permits.update(permit.id, { status: 'b' }, { actor: 'bob' });
    await permits.delete(permit.id, { actor: 'carol' });

    expect(await permits.findById(permit.id)).toBeNull();
    const history = await permits.history(permit.id);
    expect(history?.fields['status']?.map(({ value, actor }) => ({ value, actor }))).toEqual([
      { value: 'b', actor: 'bob' },
      { value: 'a', actor: 'alice' },
    ]);
  });

  it('keeps the history of a deleted record readable even when none of its fields is historized', async () => {
    @Entity('hist-plain')
    class Plain {
      @Field() text!: string;
    }
    await store.close();
    store = await openStore(dir.path, [Permit, Note, Plain]);
    const plain = await store.repo(Plain).create({ text: 'x' });
    await store.repo(Plain).delete(plain.id);

    expect(await store.repo(Plain).history(plain.id)).toEqual({ id: plain.id, fields: {} });
  });

  it('answers null for an id that never existed', async () => {
    await store.repo(Permit).create({ status: 'a', county: 'b' });
    expect(await store.repo(Permit).history(NEVER_USED_ID)).toBeNull();
  });

  it('does not mix up the history of two records or two entities', async () => {
    const a = await store.repo(Permit).create({ status: 'a1', county: 'x' });
    const b = await store.repo(Permit).create({ status: 'b1', county: 'x' });
    await store.repo(Permit).update(a.id, { status: 'a2' });

    expect((await store.repo(Permit).history(a.id))?.fields['status']?.map((e) => e.value)).toEqual(['a2', 'a1']);
    expect((await store.repo(Permit).history(b.id))?.fields['status']?.map((e) => e.value)).toEqual(['b1']);
    expect(await store.repo(Note).history(a.id)).toBeNull();
  });
});
