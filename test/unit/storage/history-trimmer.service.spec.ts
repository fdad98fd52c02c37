import { jest } from '@jest/globals';
import { Entity, Field, Historize } from '../../../lib/index.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { FieldHistory, type FieldHistoryEntry } from '../../../lib/storage/field-history.store.js';
import { HistoryTrimmer } from '../../../lib/storage/history-trimmer.service.js';
import type { IndexKey } from '../../../lib/storage/index-key.util.js';
import { readCatalog } from '../../../lib/storage/store-catalog.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { openStore, type OpenStore } from './write-pipeline/store-harness.util.js';

/** Version 1 of an entity, keeping much history. */
@Entity('trim-permits')
class PermitV1 {
  @Field() @Historize('full') status!: string;
  @Field() @Historize({ versions: 3 }) county!: string;
  @Field() @Historize({ versions: 2 }) client!: string;
  @Field({ required: false }) @Historize('full') note?: string;
}

/** Version 2: status and county keep less, client keeps more, note is gone from the class. */
@Entity('trim-permits')
class PermitV2 {
  @Field() @Historize({ versions: 1 }) status!: string;
  @Field() @Historize('never') county!: string;
  @Field() @Historize('full') client!: string;
}

/** Version 3: note is back, keeping only its newest value. */
@Entity('trim-permits')
class PermitV3 {
  @Field() @Historize({ versions: 1 }) status!: string;
  @Field() @Historize('never') county!: string;
  @Field() @Historize('full') client!: string;
  @Field({ required: false }) @Historize({ versions: 2 }) note?: string;
}

const RECORDS = 6;
const UPDATES = 4;

/** Creates RECORDS permits with version 1 and gives each UPDATES changes of every field; returns their ids. */
async function fill(store: OpenStore): Promise<string[]> {
  const permits = store.repo(PermitV1);
  const ids: string[] = [];
  for (let r = 0; r < RECORDS; r++) {
    const permit = await permits.create({ status: 's0', county: 'c0', client: 'k0', note: 'n0' });
    for (let u = 1; u <= UPDATES; u++) await permits.update(permit.id, { status: `s${u}`, county: `c${u}`, client: `k${u}`, note: `n${u}` });
    ids.push(permit.id);
  }
  return ids;
}

/** Per field, the values of a record's history as stored, newest first (fields the class no longer declares included). */
function storedHistory(store: OpenStore, id: string): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  // History is listed under each record after its events (store format 6).
  for (const { key, value } of store.environment.database<{ value: string }, never>('_log.by-record').getRange({})) {
    const [entity, owner, field] = key as unknown as [string, string, unknown];
    if (entity === 'trim-permits' && owner === id && typeof field === 'string') (fields[field] ??= []).unshift(value.value);
  }
  return fields;
}

describe('narrowing a @Historize policy', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore | undefined;

  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    dir.remove();
  });

  it('trims each record to the newest values the new policy keeps at the next start, and verify finds nothing wrong', async () => {
    store = await openStore(dir.path, [PermitV1]);
    const ids = await fill(store);
    await store.close();

    store = await openStore(dir.path, [PermitV2]);

    for (const id of ids) {
      expect(storedHistory(store, id)).toEqual({
        status: ['s4'],
        // Widened from { versions: 2 }: what was kept stays, nothing comes back.
        client: ['k4', 'k3'],
        // No longer declared: its history stays, unread, like its values in the records.
        note: ['n4', 'n3', 'n2', 'n1', 'n0'],
      });
    }
    expect(store.storage.verify()).toEqual(expect.objectContaining({ ok: true, problems: [] }));
    // From now on the new policy holds as it did for records written under it.
    await store.repo(PermitV2).update(ids[0]!, { status: 's5', client: 'k5' });
    expect(storedHistory(store, ids[0]!)).toMatchObject({ status: ['s5'], client: ['k5', 'k4', 'k3'] });
    expect(store.storage.verify().problems).toEqual([]);
  });

  it("moves the entity's change mark when it removes entries, so no process answers history cached before, and counts no change (stat)", async () => {
    store = await openStore(dir.path, [PermitV1]);
    await fill(store);
    const before = store.storage.changeMark(store.storage.definitionOf(PermitV1));
    expect(before.count).toBe(RECORDS * (1 + UPDATES));
    await store.close();

    store = await openStore(dir.path, [PermitV2]);
    const trimmed = store.storage.changeMark(store.storage.definitionOf(PermitV2));
    expect(trimmed.count).toBe(before.count);
    expect(trimmed.lastEventId).not.toBe(before.lastEventId);
    expect(trimmed.trims).toBe(1);
    await store.close();

    // Nothing left to trim at the next start: the mark stays.
    store = await openStore(dir.path, [PermitV2]);
    expect(store.storage.changeMark(store.storage.definitionOf(PermitV2))).toEqual(trimmed);
  });

  it.each([1, 2])('trims in many small write transactions, with a budget of %i per transaction, to the same result as one', async (budget) => {
    store = await openStore(dir.path, [PermitV1]);
    const ids = await fill(store);
    const previous = readCatalog(store.environment.database('_meta'));
    // Version 2's tables over the same databases, trimmed by hand instead of at a start.
    const v2 = createEntityDefinition(PermitV2);
    const tables = {
      ...store.storage.tablesOf(store.storage.definitionOf(PermitV1)),
      definition: v2,
      history: new FieldHistory(v2, store.environment.database<FieldHistoryEntry, IndexKey>('_log.by-record')),
    };
    const write = jest.spyOn(store.environment, 'write');

    // Either budget is less than one record's surplus of status values (4): a record is taken up again where a step stopped.
    await new HistoryTrimmer(store.environment, budget).reconcile([tables], previous);

    expect(write.mock.calls.length).toBeGreaterThan(RECORDS * 3);
    for (const id of ids) expect(storedHistory(store, id)).toEqual({ status: ['s4'], client: ['k4', 'k3'], note: ['n4', 'n3', 'n2', 'n1', 'n0'] });
  });

  it('trims the history of a field removed, then added back under a narrower policy, however many starts lie between', async () => {
    store = await openStore(dir.path, [PermitV1]);
    const ids = await fill(store);
    await store.close();
    for (let start = 0; start < 2; start++) {
      store = await openStore(dir.path, [PermitV2]);
      await store.close();
    }

    store = await openStore(dir.path, [PermitV3]);

    for (const id of ids) expect(storedHistory(store, id)).toMatchObject({ note: ['n4', 'n3'] });
    expect(store.storage.verify().problems).toEqual([]);
    expect(readCatalog(store.environment.database('_meta'))!.entities[0]).not.toHaveProperty('removedHistory');
  });

  it("remembers the policy a removed field's history was last kept under", async () => {
    store = await openStore(dir.path, [PermitV1]);
    await store.close();
    store = await openStore(dir.path, [PermitV2]);
    expect(readCatalog(store.environment.database('_meta'))!.entities[0]!.removedHistory).toEqual([{ name: 'note', history: 'full' }]);
    await store.close();
    store = await openStore(dir.path, [PermitV3]);
    await store.close();
    store = await openStore(dir.path, [PermitV2]);
    expect(readCatalog(store.environment.database('_meta'))!.entities[0]!.removedHistory).toEqual([{ name: 'note', history: { versions: 2 } }]);
  });

  it('trims nothing at a start whose policies keep as much as before', async () => {
    store = await openStore(dir.path, [PermitV1]);
    const ids = await fill(store);
    const before = ids.map((id) => storedHistory(store!, id));
    await store.close();

    store = await openStore(dir.path, [PermitV1]);

    expect(ids.map((id) => storedHistory(store!, id))).toEqual(before);
    expect(before[0]).toEqual({
      status: ['s4', 's3', 's2', 's1', 's0'],
      county: ['c4', 'c3', 'c2'],
      client: ['k4', 'k3'],
      note: ['n4', 'n3', 'n2', 'n1', 'n0'],
    });
  });
});
