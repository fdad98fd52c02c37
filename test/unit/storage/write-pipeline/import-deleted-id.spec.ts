import { Entity, Field, Historize, InvalidRecordException } from '../../../../lib/index.js';
import { makeTempDir } from '../../../support/temp-dir.util.js';
import { openStore, type OpenStore } from './store-harness.util.js';

@Entity('reimported-memos')
@Historize('full')
class Memo {
  @Field() title!: string;
}

@Entity({ name: 'reimported-notes', softDelete: true })
class Note {
  @Field() title!: string;
}

/**
 * README (Import): a record deleted for good leaves its history, its delete mark and its past
 * versions under its id; an import of that id, from an export made before the delete, is
 * refused rather than mixed with them, and leaves the store as it was.
 */
describe('an import of an id deleted for good', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore;

  beforeEach(async () => {
    dir = makeTempDir();
    store = await openStore(dir.path, [Memo, Note]);
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  it('is refused for a deleted record, and the store stays consistent', async () => {
    const memos = store.repo(Memo);
    const { id } = await memos.create({ title: 'a' });
    await memos.update(id, { title: 'b' });
    const exported = { ...(await memos.findById(id))! };
    await memos.update(id, { title: 'c' });
    await memos.delete(id);

    const importing = store.storage.write((tx) => tx.importRecord(store.storage.definitionOf(Memo), exported));
    await expect(importing).rejects.toThrow(InvalidRecordException);
    await expect(importing).rejects.toThrow(`id ${id} belonged to a record deleted from this store, whose history and past versions stay under it`);
    expect(await memos.findById(id)).toBeNull();
    expect((await memos.history(id))?.fields['title']?.[0]).toMatchObject({ version: 3, value: 'c' });
    expect(store.storage.verify().problems).toEqual([]);
  });

  it('is refused for a soft-deleted record purged since, and taken for an id never stored', async () => {
    const notes = store.repo(Note);
    const { id } = await notes.create({ title: 'a' });
    const exported = { ...(await notes.findById(id))! };
    await notes.delete(id);
    await notes.purge(id);
    const definition = store.storage.definitionOf(Note);
    await expect(store.storage.write((tx) => tx.importRecord(definition, exported))).rejects.toThrow(/belonged to a record deleted from this store/);
    await expect(store.storage.write((tx) => tx.importRecord(definition, { ...exported, id: 'fresh-id' }))).resolves.toMatchObject({ id: 'fresh-id' });
    expect(store.storage.verify().problems).toEqual([]);
  });
});
