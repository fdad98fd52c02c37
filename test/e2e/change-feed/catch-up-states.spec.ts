import { jest } from '@jest/globals';
import { Entity, EntityRepository, Field, getRepositoryToken, type EntityChange } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity({ name: 'hot-counters', softDelete: true })
class Counter {
  @Field() name!: string;
  @Field({ required: false }) n?: number;
  @Field({ required: false }) note?: string;
}

/**
 * README (Live changes): each change carries the record it left, as a read of that version
 * gives it. A subscriber catching up over a record's many versions reads each in one step
 * from the one before (not by folding the record's past again), through updates, replaces,
 * soft deletes, restores and purges alike, and so does one that starts midway.
 */
describe('a subscriber catching up over many versions', () => {
  let t: TestApp;
  let counters: EntityRepository<Counter>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Counter] });
    counters = t.app.get(getRepositoryToken(Counter));
  });
  afterAll(() => t.close());

  /** Records changed in turn, `versions` times each; resolves to the seq before the first. */
  async function changedInTurn(records: number, versions: number): Promise<number> {
    const start = (await counters.events({ afterSeq: 0, limit: 10_000_000 })).at(-1)?.seq ?? 0;
    const ids: string[] = [];
    for (let k = 0; k < records; k += 500) {
      const batch = Array.from({ length: Math.min(500, records - k) }, () => ({ name: 'turn', n: 0 }));
      ids.push(...(await counters.createMany(batch)).map((record) => record.id));
    }
    for (let n = 1; n < versions; n++) {
      for (let k = 0; k < records; k += 500) {
        await counters.transaction((tx) => {
          for (const id of ids.slice(k, k + 500)) tx.update(Counter, id, { n });
        });
      }
    }
    return start;
  }

  /** How many times a catch-up of `count` changes after `afterSeq` folds a record's past from the log. */
  async function foldsOfCatchUp(afterSeq: number, count: number): Promise<number> {
    const log = t.app.get(EntityStorage).log;
    const recordEvents = jest.spyOn(log, 'recordEvents');
    try {
      const changes = await collect(afterSeq, count);
      expect(changes).toHaveLength(count);
      return recordEvents.mock.calls.length;
    } finally {
      recordEvents.mockRestore();
    }
  }

  async function collect(afterSeq: number, count: number): Promise<EntityChange<object>[]> {
    const abort = new AbortController();
    const got: EntityChange<object>[] = [];
    for await (const change of counters.subscribe({ afterSeq, signal: abort.signal })) {
      got.push(change);
      if (got.length === count) abort.abort();
    }
    return got;
  }

  it('delivers every version as findAt reads it', async () => {
    const start = (await counters.events({ afterSeq: 0, limit: 1_000_000 })).at(-1)?.seq ?? 0;
    const hot = await counters.create({ name: 'hot', n: 0 });
    const other = await counters.create({ name: 'other' });
    await counters.transaction((tx) => {
      for (let n = 1; n <= 300; n++) tx.update(Counter, hot.id, n % 50 === 0 ? { note: `at ${n}`, n } : { n, note: null });
    });
    await counters.replace(hot.id, { name: 'hot again' });
    await counters.update(other.id, { n: 7 });
    await counters.delete(hot.id);
    await counters.restore(hot.id);
    await counters.update(hot.id, { note: 'back' });
    await counters.delete(other.id);
    await counters.purge(other.id);
    const events = await counters.events({ afterSeq: start, limit: 1_000_000 });
    const midway = events[150]!.seq;

    for (const [afterSeq, expected] of [
      [start, events],
      [midway, events.filter((event) => event.seq > midway)],
    ] as const) {
      const changes = await collect(afterSeq, expected.length);
      expect(changes.map((change) => [change.seq, change.type])).toEqual(expected.map((event) => [event.seq, event.type]));
      for (const change of changes) {
        if (change.type === 'deleted' || change.type === 'purged') {
          expect(change).not.toHaveProperty('record');
          continue;
        }
        expect({ seq: change.seq, record: change.record }).toEqual({ seq: change.seq, record: await counters.findAt(change.id, { version: change.version }) });
      }
    }
  }, 60_000);

  it('folds each record once when more records than a thousand change in turn', async () => {
    const start = await changedInTurn(1_100, 20);
    expect(await foldsOfCatchUp(start, 1_100 * 20)).toBe(1_100);
  }, 120_000);

  it('past the records it keeps, folds only some of their changes again', async () => {
    // 2,400 records changed in turn, more than a subscription keeps: letting go of the
    // longest unseen would fold each of the 14,400 changes.
    const start = await changedInTurn(2_400, 6);
    expect(await foldsOfCatchUp(start, 14_400)).toBeLessThan(0.6 * 14_400);
  }, 180_000);

  it('once caught up, keeps the state of a record changed more than once between reads', async () => {
    const hot = await counters.create({ name: 'twice', n: 0 });
    await counters.transaction((tx) => {
      for (let n = 1; n <= 500; n++) tx.update(Counter, hot.id, { n });
    });
    const abort = new AbortController();
    const changes = counters.subscribe({ signal: abort.signal })[Symbol.asyncIterator]();
    const next = () => changes.next() as Promise<IteratorResult<EntityChange<Counter>>>;
    const first = next();
    await counters.update(hot.id, { n: -1 });
    await first;
    const recordEvents = jest.spyOn(t.app.get(EntityStorage).log, 'recordEvents');
    try {
      for (let round = 0; round < 20; round++) {
        const earlier = next();
        // Two changes between two reads: the first one read is already a past version.
        await counters.transaction((tx) => {
          tx.update(Counter, hot.id, { n: 2 * round });
          tx.update(Counter, hot.id, { n: 2 * round + 1 });
        });
        expect((await earlier).value.record).toMatchObject({ n: 2 * round });
        expect((await next()).value.record).toMatchObject({ n: 2 * round + 1 });
      }
      expect(recordEvents.mock.calls.length).toBeLessThanOrEqual(1);
    } finally {
      recordEvents.mockRestore();
      abort.abort();
      await changes.return?.(undefined);
    }
  }, 60_000);
});
