import { jest } from '@jest/globals';
import { Audited, Entity, Field, Historize, InvalidRecordException, PastStateGoneException } from '../../../../lib/index.js';
import { makeTempDir } from '../../../support/temp-dir.util.js';
import { openStore, type OpenStore } from './store-harness.util.js';

@Entity({ name: 'imported-memos', softDelete: true })
@Audited()
@Historize('full')
class Memo {
  @Field() title!: string;
}

const HOUR = 60 * 60 * 1000;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * README (Import): an imported record keeps its version and times; its past before them was
 * never in this log (410, or 404 before its createdAt), and a change after it is never dated
 * before it, even when the times came from a machine whose clock was ahead.
 */
describe('a record restored by an import', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore;

  beforeEach(async () => {
    dir = makeTempDir();
    store = await openStore(dir.path, [Memo]);
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  const importing = (record: Record<string, unknown>) => store.storage.write((tx) => tx.importRecord(store.storage.definitionOf(Memo), record));

  it('answers its imported version and time, 410 for the past before them, and keeps doing so after a change', async () => {
    const createdAt = iso(Date.now() - 3 * HOUR);
    const updatedAt = iso(Date.now() - 2 * HOUR);
    await importing({ id: 'memo-1', version: 3, title: 'imported', createdAt, updatedAt });
    const memos = store.repo(Memo);
    for (const round of ['as imported', 'after a change']) {
      expect({ round, record: await memos.findAt('memo-1', { asOf: updatedAt }) }).toMatchObject({ round, record: { version: 3, title: 'imported' } });
      expect(await memos.findAt('memo-1', { version: 3 })).toMatchObject({ title: 'imported' });
      await expect(memos.findAt('memo-1', { version: 1 })).rejects.toThrow(
        /at version 1 was never in this store's event log \(the record was imported as it was later\)/,
      );
      await expect(memos.findAt('memo-1', { asOf: iso(Date.parse(createdAt) + HOUR / 2) })).rejects.toThrow(PastStateGoneException);
      expect(await memos.findAt('memo-1', { asOf: iso(Date.parse(createdAt) - 1) })).toBeNull();
      if (round === 'as imported') await memos.update('memo-1', { title: 'changed' });
    }
    expect(await memos.findAt('memo-1', { version: 4 })).toMatchObject({ title: 'changed' });
  });

  it('dates its field history as the record, and a later change as written', async () => {
    const createdAt = iso(Date.now() - 3 * HOUR);
    const updatedAt = iso(Date.now() - 2 * HOUR);
    await importing({ id: 'memo-dated', version: 2, title: 'imported', createdAt, updatedAt });
    const memos = store.repo(Memo);
    expect((await memos.history('memo-dated'))?.fields.title).toEqual([expect.objectContaining({ value: 'imported', version: 2, at: updatedAt })]);
    const changed = await memos.update('memo-dated', { title: 'changed' });
    expect((await memos.history('memo-dated'))?.fields.title.map(({ version, at }) => ({ version, at }))).toEqual([
      { version: 3, at: changed.updatedAt },
      { version: 2, at: updatedAt },
    ]);
  });

  it('refuses a version without room for later changes, and any change past 2^53 - 1', async () => {
    for (const version of [2 ** 52 + 1, Number.MAX_SAFE_INTEGER, 2 ** 53, 1e300, 2.5, 0]) {
      await expect(importing({ id: 'memo-huge', version, title: 'x' })).rejects.toThrow(/version must be a positive integer up to 4503599627370496/);
    }
    expect(await importing({ id: 'memo-huge', version: 2 ** 52, title: 'x' })).toMatchObject({ version: 2 ** 52 });
    const memos = store.repo(Memo);
    expect(await memos.update('memo-huge', { title: 'y' })).toMatchObject({ version: 2 ** 52 + 1 });
    // A version only a store written by other means could hold: the change that would pass the limit is refused.
    const definition = store.storage.definitionOf(Memo);
    const stored = await store.storage.write((tx) => tx.get(definition, 'memo-huge')!);
    await store.environment.write(() => store.storage.tablesOf(definition).records.putSync('memo-huge', { ...stored, version: Number.MAX_SAFE_INTEGER }));
    await expect(memos.update('memo-huge', { title: 'z' })).rejects.toThrow(/memo-huge is at the highest version a record can reach/);
  });

  it('dates a change after it when its times are ahead of this clock, without holding later changes there', async () => {
    const ahead = iso(Date.now() + HOUR);
    await importing({ id: 'memo-ahead', version: 2, title: 'from a clock ahead', createdAt: ahead, updatedAt: ahead });
    const memos = store.repo(Memo);
    const changed = await memos.update('memo-ahead', { title: 'changed here' });
    expect(changed.updatedAt >= ahead).toBe(true);
    const deleted = await memos.delete('memo-ahead');
    expect(deleted).toBeUndefined();
    const restored = await memos.restore('memo-ahead');
    expect(restored.updatedAt >= changed.updatedAt).toBe(true);
    const other = await memos.create({ title: 'made now' });
    expect(Date.parse(other.createdAt)).toBeLessThan(Date.now() + 60_000);
  });

  it('takes a time left out from the other, and refuses times out of order', async () => {
    const updatedAt = '2020-01-01T00:00:00.000Z';
    expect(await importing({ id: 'only-updated', title: 'x', updatedAt })).toMatchObject({ createdAt: updatedAt, updatedAt });
    expect(await importing({ id: 'only-created', title: 'x', createdAt: updatedAt })).toMatchObject({ createdAt: updatedAt, updatedAt });
    expect(await importing({ id: 'created-deleted', title: 'x', createdAt: updatedAt, deletedAt: '2021-01-01T00:00:00Z' })).toMatchObject({
      id: 'created-deleted',
    });
    await expect(importing({ id: 'backwards', title: 'x', createdAt: '2021-01-01T00:00:00Z', updatedAt })).rejects.toThrow(
      /createdAt must not be after updatedAt/,
    );
    await expect(importing({ id: 'deleted-early', title: 'x', createdAt: updatedAt, updatedAt, deletedAt: '2019-01-01T00:00:00Z' })).rejects.toThrow(
      /deletedAt must not be before createdAt/,
    );
    await expect(importing({ id: 'deleted-early-2', title: 'x', createdAt: updatedAt, deletedAt: '2019-01-01T00:00:00Z' })).rejects.toThrow(
      InvalidRecordException,
    );
    const deletedAt = '2022-01-01T00:00:00.000Z';
    await importing({ id: 'only-deleted', title: 'x', deletedAt });
    expect(await store.storage.write((tx) => tx.getDeleted(store.storage.definitionOf(Memo), 'only-deleted'))).toMatchObject({
      createdAt: deletedAt,
      updatedAt: deletedAt,
      deletedAt,
    });
  });

  /** A migration (or drop-fields) changing a soft-deleted record dates the change after its delete. */
  async function migratedAfterDelete(): Promise<Record<string, unknown>> {
    const memos = store.repo(Memo);
    const memo = await memos.create({ title: 'old' });
    await memos.delete(memo.id);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const definition = store.storage.definitionOf(Memo);
    await store.storage.write((tx) => tx.migrateDeleted(definition, memo.id, { data: { title: 'migrated' } } as never, 2));
    const deleted = (await store.storage.write((tx) => tx.getDeleted(definition, memo.id)))!;
    expect(deleted.updatedAt > deleted.deletedAt).toBe(true);
    return deleted;
  }

  it('imports again a soft-deleted record exported after a migration changed it', async () => {
    const exported = await migratedAfterDelete();
    const other = makeTempDir();
    const target = await openStore(other.path, [Memo]);
    try {
      await expect(target.storage.write((tx) => tx.importRecord(target.storage.definitionOf(Memo), exported))).resolves.toMatchObject({ id: exported.id });
      expect(await target.storage.write((tx) => tx.getDeleted(target.storage.definitionOf(Memo), exported.id as string))).toEqual(exported);
    } finally {
      await target.close();
      other.remove();
    }
  });

  it('dates the restore of such a record after its last change, not its delete', async () => {
    // As exported by a machine whose clock was ahead: the migration's change an hour from now, its delete half an hour.
    const updatedAt = iso(Date.now() + HOUR);
    await importing({ id: 'migrated-ahead', version: 2, title: 'migrated', createdAt: iso(Date.now()), updatedAt, deletedAt: iso(Date.now() + HOUR / 2) });
    const restored = await store.repo(Memo).restore('migrated-ahead');
    expect(restored).toMatchObject({ version: 3 });
    expect(restored.updatedAt >= updatedAt).toBe(true);
  });

  it("keeps such a record's audit trail oldest first, and its changes dated as written", async () => {
    const memos = store.repo(Memo);
    const ahead = iso(Date.now() + HOUR);
    for (let i = 0; i < 10; i++) {
      await importing({ id: `ahead-${i}`, version: 1, title: 'v1', createdAt: ahead, updatedAt: ahead });
      await memos.update(`ahead-${i}`, { title: 'v2' });
      await memos.update(`ahead-${i}`, { title: 'v3' });
      const trail = await store.audit.forRecord('imported-memos', `ahead-${i}`);
      expect({ i, versions: trail.map((entry) => entry.version) }).toEqual({ i, versions: [1, 2, 3] });
      expect(trail.every((entry) => Date.parse(entry.at) < Date.now() + 60_000)).toBe(true);
    }
  });

  it('drops events past maxAgeMs by when they were written, whatever their records were dated', async () => {
    const ahead = iso(Date.now() + 365 * 24 * HOUR);
    await importing({ id: 'far-ahead', version: 1, title: 'x', createdAt: ahead, updatedAt: ahead });
    const memos = store.repo(Memo);
    await memos.update('far-ahead', { title: 'y' });
    for (let i = 0; i < 5; i++) await memos.create({ title: `now ${i}` });
    await memos.create({ title: 'newest' });
    await store.storage.runMaintenance(Date.now() + 48 * HOUR, { maxAgeMs: 24 * HOUR });
    // The newest event always stays, so the next seq follows it.
    expect([...store.storage.log.all()].map((event) => event.data?.title)).toEqual(['newest']);
  });

  it('was not there, as of a time between its deletedAt and its import, once restored', async () => {
    const memos = store.repo(Memo);
    const createdAt = iso(Date.now() - 3 * HOUR);
    const deletedAt = iso(Date.now() - 2 * HOUR);
    await importing({ id: 'was-deleted', version: 2, title: 'old', createdAt, updatedAt: createdAt, deletedAt });
    const between = iso(Date.now() - HOUR);
    expect(await memos.findAt('was-deleted', { asOf: between })).toBeNull();
    await memos.restore('was-deleted');
    expect(await memos.findAt('was-deleted', { asOf: between })).toBeNull();
    expect(await memos.findAt('was-deleted', { asOf: createdAt })).toMatchObject({ title: 'old', version: 2 });
  });

  it('costs a create no look-up among the deleted records', async () => {
    const deleted = store.storage.tablesOf(store.storage.definitionOf(Memo)).deleted!;
    const get = jest.spyOn(deleted, 'get');
    try {
      await store.repo(Memo).createMany(Array.from({ length: 50 }, (_, i) => ({ title: `t${i}` })));
      expect(get).not.toHaveBeenCalled();
    } finally {
      get.mockRestore();
    }
  });
});
