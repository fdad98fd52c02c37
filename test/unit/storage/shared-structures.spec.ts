import type { Database } from 'lmdb';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { SharedStructures } from '../../../lib/storage/shared-structures.service.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

/** A database that shares its msgpack structures, as records, history, events and audit entries do. */
const SHARED = 'parcels.records';

type Value = Record<string, unknown>;

/** Reads every key back from a freshly opened environment: only what was committed, decoded as a restart would. */
async function readAfterRestart(path: string, keys: string[]): Promise<Array<Value | undefined>> {
  const environment = new LmdbEnvironment(path, {}, true);
  environment.open(4);
  try {
    const db = environment.database<Value, string>(SHARED);
    return keys.map((key) => db.get(key));
  } finally {
    await environment.close();
  }
}

const boom = new Error('the write changed its mind');

describe('shared msgpack structures across failed writes', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let environment: LmdbEnvironment;

  beforeEach(() => {
    dir = makeTempDir('nde-structures-');
    environment = new LmdbEnvironment(dir.path);
    environment.open(4);
  });

  afterEach(async () => {
    await environment.close();
    dir.remove();
  });

  it('forgets a shape first met by a write that threw, so a later value of that shape is readable after a restart', async () => {
    const db = environment.database<Value, string>(SHARED);
    await environment.write(() => db.putSync('a', { site: 'north' }));
    await expect(
      environment.write(() => {
        db.putSync('lost', { site: 'south', inspector: 'ana', grade: 2 });
        throw boom;
      }),
    ).rejects.toBe(boom);
    await environment.write(() => db.putSync('b', { site: 'east', inspector: 'bo', grade: 3 }));
    await environment.write(() => db.putSync('c', { site: 'west', inspector: 'cy', grade: 4, extra: true }));
    await environment.close();

    expect(await readAfterRestart(dir.path, ['a', 'lost', 'b', 'c'])).toEqual([
      { site: 'north' },
      undefined,
      { site: 'east', inspector: 'bo', grade: 3 },
      { site: 'west', inspector: 'cy', grade: 4, extra: true },
    ]);
  });

  it('keeps the shapes of the writes that commit when a write batched into the same commit throws', async () => {
    const db = environment.database<Value, string>(SHARED);
    await environment.write(() => db.putSync('seed', { kind: 'seed' }));
    // Writes go in pairs of one new shape: the first of each pair stores the shape, then throws;
    // the second, batched into the same commit, meets the shape msgpackr now believes stored.
    const valueOf = (i: number): Value => ({ kind: 'parcel', [`field${i >> 1}`]: i });
    const writes = Array.from({ length: 12 }, (_, i) =>
      environment.write(() => {
        db.putSync(`k${i}`, valueOf(i));
        if (i % 2 === 0) throw boom;
        return i;
      }),
    );
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 'rejected' : 'fulfilled')));
    await environment.write(() => db.putSync('after', valueOf(0)));
    await environment.close();

    const keys = [...Array.from({ length: 12 }, (_, i) => `k${i}`), 'after'];
    expect(await readAfterRestart(dir.path, keys)).toEqual([...Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? undefined : valueOf(i))), valueOf(0)]);
  });
});

/** A SharedStructures watching a stand-in for the msgpackr encoder lmdb-js gives a database with shared structures. */
function watchedDatabase(): {
  structures: SharedStructures;
  encoder: { structures: unknown[]; saveStructures: (structures: unknown) => unknown };
  meetShape: () => void;
} {
  const encoder = { structures: [['a']] as unknown[], saveStructures: (_structures: unknown): unknown => undefined };
  const structures = new SharedStructures();
  structures.watch({ encoder } as unknown as Database);
  return {
    structures,
    encoder,
    // What msgpackr does on meeting a new shape: it grows its list, then stores it.
    meetShape: () => {
      encoder.structures.push(['b']);
      encoder.saveStructures(encoder.structures);
    },
  };
}

const forgotten = (structures: unknown) => (structures as { uninitialized?: boolean }).uninitialized === true && (structures as unknown[]).length === 0;

describe('SharedStructures', () => {
  it('leaves alone the shapes of writes that store none, and of stored shapes once committed', () => {
    const { structures, encoder, meetShape } = watchedDatabase();
    structures.begin();
    expect(structures.end(false)).toBeUndefined();
    structures.begin();
    meetShape();
    const saved = structures.end(false);
    structures.settle(saved, true);
    structures.begin();
    expect(encoder.structures).toEqual([['a'], ['b']]);
  });

  it('has every write reload the shapes a write not yet committed stored, until that commit settles', () => {
    const { structures, encoder, meetShape } = watchedDatabase();
    structures.begin();
    meetShape();
    const saved = structures.end(false);
    expect(encoder.structures).toHaveLength(2);

    // A write batched into a later commit may run before the first commit is known to fail.
    structures.begin();
    expect(forgotten(encoder.structures)).toBe(true);
    structures.end(false);
    encoder.structures = [['a']];
    structures.settle(saved, false);
    expect(forgotten(encoder.structures)).toBe(true);

    encoder.structures = [['a']];
    structures.begin();
    expect(encoder.structures).toEqual([['a']]);
  });

  it('forgets at once the shapes a write stored before it threw', () => {
    const { structures, encoder, meetShape } = watchedDatabase();
    structures.begin();
    meetShape();
    expect(structures.end(true)).toBeUndefined();
    expect(forgotten(encoder.structures)).toBe(true);
  });

  it('does not count a save msgpackr declined (another writer changed the list first)', () => {
    const structures = new SharedStructures();
    const encoder = { structures: [] as unknown[], saveStructures: (): unknown => false };
    structures.watch({ encoder } as unknown as Database);
    structures.begin();
    encoder.saveStructures();
    expect(structures.end(false)).toBeUndefined();
  });
});
