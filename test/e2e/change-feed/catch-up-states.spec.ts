import { Entity, EntityRepository, Field, getRepositoryToken, type EntityChange } from '../../../lib/index.js';
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
});
