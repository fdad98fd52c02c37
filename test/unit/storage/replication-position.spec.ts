import { Entity, Field, Index } from '../../../lib/index.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import type { IndexKey } from '../../../lib/storage/index-key.util.js';
import { ReplicationDivergedException } from '../../../lib/storage/replication-diverged.exception.js';
import { catalogHash, recordedCatalogHash } from '../../../lib/storage/catalog-hash.util.js';
import { readCatalog } from '../../../lib/storage/store-catalog.util.js';
import { META_DB } from '../../../lib/storage/store-layout.util.js';
import { applyMessage, readPosition } from '../../../lib/storage/replication-position.util.js';
import type { StoreChange } from '../../../lib/storage/store-change.interface.js';
import { decodeMessage, encodeMessage, messageHash, MESSAGE_FORMAT, type TransactionMessage } from '../../../lib/storage/transaction-message.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { dump, openStore, type OpenStore } from './write-pipeline/store-harness.util.js';

@Entity('rp-notes')
class Note {
  @Field() @Index({ unique: true }) title!: string;
}

@Entity('rp-notes')
class RenamedNote {
  @Field() @Index({ unique: true }) heading!: string;
}

@Entity('rp-tags')
class Tag {
  @Field() name!: string;
}

const CATALOG = catalogHash([createEntityDefinition(Note)]);

function event(id: string, title: string): StoreChange {
  return { kind: 'event', event: { eventId: `E${id}`, entity: 'rp-notes', id, type: 'created', version: 1, data: { title }, at: '2026-12-04T00:00:00.000Z' } };
}

/** The messages of a stream that starts empty: each chained on the hash of the one before. */
function chain(...changes: StoreChange[][]): Array<{ message: TransactionMessage; bytes: Uint8Array; hash: string }> {
  let prev = '';
  return changes.map((list) => {
    const message: TransactionMessage = { format: MESSAGE_FORMAT, origin: 'test', catalog: CATALOG, prev, changes: list };
    const bytes = encodeMessage(message);
    prev = messageHash(bytes);
    return { message, bytes, hash: prev };
  });
}

describe('applying replicated messages', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore;

  beforeEach(async () => {
    dir = makeTempDir();
    store = await openStore(dir.path, [Note]);
  });

  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  const meta = () => store.environment.database<unknown, IndexKey>('_meta');
  const apply = (seq: number, { message, hash }: { message: TransactionMessage; hash: string }) =>
    store.storage.write((tx) => applyMessage(meta(), tx, CATALOG, seq, message, hash));

  it('applies each message once, in order, and stores its seq and hash with its changes', async () => {
    const [first, second] = chain([event('a', 'one')], [event('b', 'two'), event('c', 'three')]);
    expect(await apply(1, first!)).toBe(true);
    expect(await apply(2, second!)).toBe(true);
    expect(await apply(2, second!)).toBe(false);
    expect(await apply(1, first!)).toBe(false);
    expect(readPosition(meta())).toEqual({ seq: 2, hash: second!.hash });
    expect(dump(store, 'rp-notes.records').map(({ key }) => key)).toEqual(['a', 'b', 'c']);
    expect(store.storage.events(0, 10).map((stored) => stored.seq)).toEqual([1, 2, 3]);
  });

  it.each([
    ['a gap', 3, (m: TransactionMessage) => m, /message 3 arrived after 1: 1 missing/],
    ['a message that does not chain on the last one', 2, (m: TransactionMessage) => ({ ...m, prev: 'forged' }), /hash mismatch/],
    ['a message decided under other entity definitions', 2, (m: TransactionMessage) => ({ ...m, catalog: 'other' }), /stored another way/],
  ])('refuses %s and applies nothing of it', async (_, seq, alter, reason) => {
    const [first, second] = chain([event('a', 'one')], [event('b', 'two')]);
    await apply(1, first!);
    const altered = alter(second!.message);
    await expect(apply(seq, { message: altered, hash: messageHash(encodeMessage(altered)) })).rejects.toThrow(ReplicationDivergedException);
    await expect(apply(seq, { message: altered, hash: 'x' })).rejects.toThrow(reason);
    expect(readPosition(meta())).toEqual({ seq: 1, hash: first!.hash });
    expect(dump(store, 'rp-notes.records').map(({ key }) => key)).toEqual(['a']);
  });

  it('refuses a baseline message (a stream started from another store) unless this store appended it', async () => {
    const [baseline] = chain([]);
    const marked = { message: { ...baseline!.message, baseline: '01J0ADOPTION00000000000000' }, hash: baseline!.hash };
    await expect(apply(1, marked)).rejects.toThrow(/starts the stream from the data of an existing store, which it does not carry/);
    expect(readPosition(meta())).toEqual({ seq: 0, hash: '' });
    expect(await store.storage.write((tx) => applyMessage(meta(), tx, CATALOG, 1, marked.message, marked.hash, { adopting: true }))).toBe(true);
    expect(readPosition(meta())).toEqual({ seq: 1, hash: baseline!.hash });
  });

  it('applies a message decided under the earlier definitions only when told them', async () => {
    const [first, second] = chain([event('a', 'one')], [event('b', 'two')]);
    await apply(1, first!);
    const earlier = { ...second!.message, catalog: 'earlier' };
    await expect(apply(2, { message: earlier, hash: second!.hash })).rejects.toThrow(/stored another way/);
    expect(await store.storage.write((tx) => applyMessage(meta(), tx, CATALOG, 2, earlier, second!.hash, { earlierCatalogs: ['earlier'] }))).toBe(true);
    expect(dump(store, 'rp-notes.records').map(({ key }) => key)).toEqual(['a', 'b']);
  });

  it('reads back what it encodes, and refuses another format or a message missing its parts', () => {
    const [first] = chain([event('a', 'one')]);
    expect(decodeMessage(first!.bytes)).toEqual(first!.message);
    expect(() => decodeMessage(encodeMessage({ ...first!.message, format: 2 as never }))).toThrow(/format 2; this version reads 1/);
    expect(() => decodeMessage(encodeMessage({ ...first!.message, changes: undefined as never }))).toThrow(/lacks/);
  });
});

describe('catalogHash', () => {
  it('depends on how the entities are stored, not on the order they are registered in', () => {
    const note = createEntityDefinition(Note);
    const tag = createEntityDefinition(Tag);
    expect(catalogHash([note, tag])).toBe(catalogHash([tag, note]));
    expect(catalogHash([note])).not.toBe(catalogHash([note, tag]));
    expect(catalogHash([createEntityDefinition(RenamedNote)])).not.toBe(catalogHash([note]));
  });
});

describe('recordedCatalogHash', () => {
  it('tells the hash of the definitions a store was last opened with, worked out from its catalog when none was recorded', async () => {
    const dir = makeTempDir();
    const opened = await openStore(dir.path, [Note, Tag]);
    try {
      const meta = opened.storage.environment.database<unknown, IndexKey>(META_DB);
      const definitions = [createEntityDefinition(Note), createEntityDefinition(Tag)];
      expect(recordedCatalogHash(meta, readCatalog(meta))).toBe(catalogHash(definitions));
      await opened.storage.environment.write(() => meta.removeSync(['catalog', 'hash']));
      expect(recordedCatalogHash(meta, readCatalog(meta))).toBe(catalogHash(definitions));
      expect(recordedCatalogHash(meta, undefined)).toBeUndefined();
    } finally {
      await opened.close();
      dir.remove();
    }
  });
});
