import 'reflect-metadata';
import type { Cache } from 'cache-manager';
import { EntityCache } from '../../../lib/cache/entity-cache.service.js';
import { Cached } from '../../../lib/decorators/cached.decorator.js';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import type { EntityDefinition } from '../../../lib/metadata/entity-definition.interface.js';
import type { EntityRepository } from '../../../lib/repository/entity.repository.js';
import { openStore, sleep, type OpenStore } from '../storage/write-pipeline/store-harness.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('gauges')
@Cached({ ttl: 1234 })
class Gauge {
  @Field() reading!: number;
}

@Entity('meters')
class Meter {
  @Field() reading!: number;
}

/** One call of the fake's `set`. */
interface CacheWrite {
  key: string;
  value: unknown;
  ttl?: number;
}

/**
 * A stand-in for a cache-manager `Cache`: a Map, a log of every key asked for and written,
 * switches that make `get`/`set` fail, optional random latency, and a way to hold cache
 * writes back so they land after a store write.
 */
class FakeCacheManager {
  readonly entries = new Map<string, unknown>();
  readonly reads: string[] = [];
  readonly writes: CacheWrite[] = [];
  failGet = false;
  failSet = false;
  maxLatencyMs = 0;
  holdWrites = false;
  private held: Array<() => void> = [];

  async get<T>(key: string): Promise<T | undefined> {
    this.reads.push(key);
    await this.latency();
    if (this.failGet) throw new Error('cache store is down (get)');
    return this.entries.get(key) as T | undefined;
  }

  async set<T>(key: string, value: T, ttl?: number): Promise<T> {
    this.writes.push({ key, value, ttl });
    if (this.holdWrites) await new Promise<void>((resolve) => this.held.push(resolve));
    await this.latency();
    if (this.failSet) throw new Error('cache store is down (set)');
    this.entries.set(key, value);
    return value;
  }

  /** Lets every held cache write complete, and waits until they did. */
  async releaseWrites(): Promise<void> {
    this.holdWrites = false;
    const held = this.held;
    this.held = [];
    for (const release of held) release();
    await sleep(this.maxLatencyMs + 5);
  }

  asCache(): Cache {
    return this as unknown as Cache;
  }

  private async latency(): Promise<void> {
    if (this.maxLatencyMs > 0) await sleep(Math.floor(Math.random() * (this.maxLatencyMs + 1)));
  }
}

/** A loader as the controllers write them: reads the store synchronously, then resolves. */
function loaderOf(repo: EntityRepository<Gauge>, id: string, calls: { count: number }) {
  return async () => {
    calls.count++;
    return repo.findById(id);
  };
}

describe('EntityCache', () => {
  const dir = makeTempDir();
  let store: OpenStore;
  let gauges: EntityRepository<Gauge>;
  let meters: EntityRepository<Meter>;
  let gauge: EntityDefinition;
  let meter: EntityDefinition;

  beforeAll(async () => {
    store = await openStore(dir.path, [Gauge, Meter]);
    gauges = store.repo(Gauge);
    meters = store.repo(Meter);
    gauge = store.storage.definitionOf(Gauge);
    meter = store.storage.definitionOf(Meter);
  });

  afterAll(async () => {
    await store?.close();
    dir.remove();
  });

  describe('cache keys', () => {
    it('includes the change mark (the id of the last change) and the view in the key it reads and writes', async () => {
      const fake = new FakeCacheManager();
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      const record = await gauges.create({ reading: 1 });
      const counter = store.storage.changeMark(gauge).lastEventId;

      await cache.read(gauge, 'viewA', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));

      expect(fake.reads).toHaveLength(1);
      expect(fake.writes).toHaveLength(1);
      const key = fake.writes[0]!.key;
      expect(fake.reads[0]).toBe(key);
      expect(key.split(':')).toEqual(expect.arrayContaining([String(counter), 'viewA']));
      expect(key).toContain(`id:${record.id}`);
    });

    it('never answers one view with the value cached for another', async () => {
      const fake = new FakeCacheManager();
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      const record = await gauges.create({ reading: 2 });

      const forA = await cache.read(gauge, 'viewA', `id:${record.id}`, async () => ({ seenBy: 'A' }));
      const forB = await cache.read(gauge, 'viewB', `id:${record.id}`, async () => ({ seenBy: 'B' }));
      const againForA = await cache.read(gauge, 'viewA', `id:${record.id}`, async () => ({ seenBy: 'A, loaded again' }));

      expect([forA, forB, againForA]).toEqual([{ seenBy: 'A' }, { seenBy: 'B' }, { seenBy: 'A' }]);
      expect(new Set(fake.writes.map(({ key }) => key)).size).toBe(2);
    });

    it('moves to a key holding the new change mark once a write of the entity is acknowledged', async () => {
      const fake = new FakeCacheManager();
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      const record = await gauges.create({ reading: 3 });
      await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));

      await gauges.update(record.id, { reading: 4 });
      const counter = store.storage.changeMark(gauge).lastEventId;
      await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));

      expect(fake.writes).toHaveLength(2);
      expect(fake.writes[1]!.key).not.toBe(fake.writes[0]!.key);
      expect(fake.writes[1]!.key.split(':')).toContain(String(counter));
    });

    it('keeps the keys of one entity apart from those of another', async () => {
      const fake = new FakeCacheManager();
      const cache = new EntityCache(store.storage, { manager: fake.asCache(), all: true });

      const gaugeAnswer = await cache.read(gauge, 'view', 'list:same', async () => ({ entity: 'gauges' }));
      const meterAnswer = await cache.read(meter, 'view', 'list:same', async () => ({ entity: 'meters' }));

      expect([gaugeAnswer, meterAnswer]).toEqual([{ entity: 'gauges' }, { entity: 'meters' }]);
    });
  });

  describe('freshness', () => {
    it('serves a repeated read from the cache and a read after a write from the store', async () => {
      const fake = new FakeCacheManager();
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      const record = await gauges.create({ reading: 10 });
      const calls = { count: 0 };

      const first = await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, calls));
      const second = await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, calls));
      await gauges.update(record.id, { reading: 11 });
      const third = await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, calls));

      expect([first?.version, second?.version, third?.version]).toEqual([1, 1, 2]);
      expect(third?.reading).toBe(11);
      expect(calls.count).toBe(2);
    });

    it('never returns a value read before a write once the write resolved, even when its cache write lands after it', async () => {
      const fake = new FakeCacheManager();
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      const record = await gauges.create({ reading: 20 });

      fake.holdWrites = true;
      const before = await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));
      await gauges.update(record.id, { reading: 21 });
      await fake.releaseWrites();
      expect(fake.entries.size).toBe(1);
      const after = await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));

      expect(before).toEqual(expect.objectContaining({ version: 1, reading: 20 }));
      expect(after).toEqual(expect.objectContaining({ version: 2, reading: 21 }));
    });

    it('never returns a deleted record once the delete resolved', async () => {
      const fake = new FakeCacheManager();
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      const record = await gauges.create({ reading: 30 });
      await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));

      await gauges.delete(record.id);

      expect(await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }))).toBeNull();
    });

    it('returns, to every read started after a write resolved, at least that version, under concurrent reads and writes', async () => {
      const fake = new FakeCacheManager();
      fake.maxLatencyMs = 3;
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      const record = await gauges.create({ reading: 0 });
      let acknowledged = 1;
      let writing = true;
      const violations: string[] = [];
      let reads = 0;

      const writer = async () => {
        try {
          for (let reading = 1; reading <= 40; reading++) {
            const updated = await gauges.update(record.id, { reading });
            acknowledged = Math.max(acknowledged, updated.version);
            await sleep(Math.floor(Math.random() * 3));
          }
        } finally {
          writing = false;
        }
      };
      const reader = async (name: string) => {
        while (writing) {
          const floor = acknowledged;
          const value = await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));
          reads++;
          if (!value || value.version < floor) violations.push(`${name} read version ${value?.version} after version ${floor} was acknowledged`);
        }
      };

      await Promise.all([writer(), reader('r1'), reader('r2'), reader('r3')]);

      expect(violations).toEqual([]);
      expect(reads).toBeGreaterThan(40);
      expect(cache.metrics()['gauges']!.hits).toBeGreaterThan(0);
    });
  });

  describe('metrics', () => {
    it('counts hits, misses and invalidations per entity', async () => {
      const fake = new FakeCacheManager();
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      const record = await gauges.create({ reading: 40 });
      const read = () => cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));

      expect(cache.metrics()).toEqual({});
      await read();
      expect(cache.metrics()).toEqual({ gauges: { hits: 0, misses: 1, invalidations: 0 } });
      await read();
      await read();
      expect(cache.metrics()).toEqual({ gauges: { hits: 2, misses: 1, invalidations: 0 } });

      await gauges.update(record.id, { reading: 41 });
      await read();
      expect(cache.metrics()).toEqual({ gauges: { hits: 2, misses: 2, invalidations: 1 } });

      await gauges.update(record.id, { reading: 42 });
      await gauges.update(record.id, { reading: 43 });
      await read();
      await read();
      expect(cache.metrics()).toEqual({ gauges: { hits: 3, misses: 3, invalidations: 3 } });
    });

    it('counts a read that falls back to the store because the cache failed as a miss', async () => {
      const fake = new FakeCacheManager();
      fake.failGet = true;
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      const record = await gauges.create({ reading: 50 });

      await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));

      expect(cache.metrics()['gauges']).toEqual({ hits: 0, misses: 1, invalidations: 0 });
    });
  });

  describe('what is cached', () => {
    it('leaves an entity without @Cached to the store, without touching the cache or counting it', async () => {
      const fake = new FakeCacheManager();
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      const calls = { count: 0 };

      expect(cache.caches(meter)).toBe(false);
      await cache.read(meter, 'view', 'list:x', async () => ({ call: ++calls.count }));
      const second = await cache.read(meter, 'view', 'list:x', async () => ({ call: ++calls.count }));

      expect(second).toEqual({ call: 2 });
      expect([fake.reads, fake.writes]).toEqual([[], []]);
      expect(cache.metrics()['meters']).toBeUndefined();
    });

    it('caches every entity with `all: true`', async () => {
      const fake = new FakeCacheManager();
      const cache = new EntityCache(store.storage, { manager: fake.asCache(), all: true });
      const record = await meters.create({ reading: 1 });
      const calls = { count: 0 };
      const load = async () => {
        calls.count++;
        return meters.findById(record.id);
      };

      expect(cache.caches(meter)).toBe(true);
      await cache.read(meter, 'view', `id:${record.id}`, load);
      await cache.read(meter, 'view', `id:${record.id}`, load);

      expect(calls.count).toBe(1);
      expect(cache.metrics()['meters']).toEqual({ hits: 1, misses: 1, invalidations: 0 });
    });

    it("passes @Cached's ttl, else the module's, else 60 s to the cache", async () => {
      const withModuleTtl = new FakeCacheManager();
      const withDefaults = new FakeCacheManager();
      const configured = new EntityCache(store.storage, { manager: withModuleTtl.asCache(), ttl: 777, all: true });
      const defaults = new EntityCache(store.storage, { manager: withDefaults.asCache(), all: true });

      for (const cache of [configured, defaults]) {
        await cache.read(gauge, 'view', 'ttl', async () => ({ entity: 'gauges' }));
        await cache.read(meter, 'view', 'ttl', async () => ({ entity: 'meters' }));
      }

      expect(withModuleTtl.writes.map(({ ttl }) => ttl)).toEqual([1234, 777]);
      expect(withDefaults.writes.map(({ ttl }) => ttl)).toEqual([1234, 60_000]);
    });

    it('never caches a missing answer, so a record that appears later is found', async () => {
      const fake = new FakeCacheManager();
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      let answer: { found: boolean } | null = null;

      expect(await cache.read(gauge, 'view', 'id:later', async () => answer)).toBeNull();
      expect(await cache.read(gauge, 'view', 'id:later', async () => undefined)).toBeUndefined();
      answer = { found: true };

      expect(fake.writes).toEqual([]);
      expect(await cache.read(gauge, 'view', 'id:later', async () => answer)).toEqual({ found: true });
    });
  });

  describe('a failing cache', () => {
    it('answers from the store when the cache rejects reads', async () => {
      const fake = new FakeCacheManager();
      fake.failGet = true;
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      const record = await gauges.create({ reading: 60 });

      const first = await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));
      await gauges.update(record.id, { reading: 61 });
      const second = await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));

      expect(first).toEqual(expect.objectContaining({ version: 1, reading: 60 }));
      expect(second).toEqual(expect.objectContaining({ version: 2, reading: 61 }));
    });

    it('answers from the store when the cache rejects writes, without an unhandled rejection', async () => {
      const fake = new FakeCacheManager();
      fake.failSet = true;
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      const record = await gauges.create({ reading: 70 });
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        const first = await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));
        await sleep(10);
        const second = await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));
        await sleep(10);

        expect([first?.version, second?.version]).toEqual([1, 1]);
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    it('answers from the store when the cache manager throws synchronously on get or set', async () => {
      const throwing = {
        get: () => {
          throw new Error('cache client is closed (get)');
        },
        set: () => {
          throw new Error('cache client is closed (set)');
        },
      } as unknown as Cache;
      const cache = new EntityCache(store.storage, { manager: throwing });
      const record = await gauges.create({ reading: 80 });

      const answer = await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 }));

      expect(answer).toEqual(expect.objectContaining({ version: 1, reading: 80 }));
    });

    it('leaves a failing cache alone for a second, then goes back to caching once it recovers', async () => {
      const fake = new FakeCacheManager();
      fake.failGet = true;
      fake.failSet = true;
      const cache = new EntityCache(store.storage, { manager: fake.asCache() });
      const record = await gauges.create({ reading: 90 });
      const calls = { count: 0 };

      await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, calls));
      fake.failGet = false;
      fake.failSet = false;
      await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, calls));
      expect({ reads: fake.reads.length, writes: fake.writes.length }).toEqual({ reads: 1, writes: 0 });
      await sleep(1_100);
      await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, calls));
      await sleep(5);
      await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, calls));

      expect(calls.count).toBe(3);
      expect(cache.metrics()['gauges']).toEqual({ hits: 1, misses: 3, invalidations: 0 });
    });

    it('reads the store when the cache does not answer within timeout, and sends it nothing meanwhile', async () => {
      const silent = { reads: 0, writes: 0 };
      const hanging = {
        get: () => (silent.reads++, new Promise(() => undefined)),
        set: () => (silent.writes++, new Promise(() => undefined)),
      } as unknown as Cache;
      const cache = new EntityCache(store.storage, { manager: hanging, timeout: 30 });
      const record = await gauges.create({ reading: 95 });

      const started = Date.now();
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await cache.read(gauge, 'view', `id:${record.id}`, loaderOf(gauges, record.id, { count: 0 })));

      expect(Date.now() - started).toBeLessThan(1_000);
      expect(answers.map((answer) => answer?.reading)).toEqual([95, 95, 95, 95, 95]);
      expect(silent).toEqual({ reads: 1, writes: 0 });
    });
  });

  describe('the default in-memory cache', () => {
    it('holds at most maxEntries, dropping the least recently used', async () => {
      const cache = new EntityCache(store.storage, { maxEntries: 2 });
      const record = await gauges.create({ reading: 100 });
      const calls = { count: 0 };
      const readAs = async (view: string) => {
        await cache.read(gauge, view, `id:${record.id}`, loaderOf(gauges, record.id, calls));
        await sleep(5);
      };

      for (const view of ['a', 'b', 'a', 'c', 'a', 'b']) await readAs(view);

      // a, b, a (hit), c (drops b), a (hit), b (loaded again)
      expect(calls.count).toBe(4);
      expect(cache.metrics()['gauges']).toEqual(expect.objectContaining({ hits: 2, misses: 4 }));
    });
  });

  describe('a shared cache between two declarations of one entity', () => {
    it('never answers an instance with what one declaring the entity otherwise cached', async () => {
      @Entity('gauges')
      @Cached({ ttl: 1234 })
      class HiddenReadingGauge {
        @Field({ hidden: true }) reading!: number;
      }
      const fake = new FakeCacheManager();
      const record = await gauges.create({ reading: 110 });
      const before = new EntityCache(store.storage, { manager: fake.asCache() });
      const after = new EntityCache(store.storage, { manager: fake.asCache() });
      const redeclared = { ...gauge, target: HiddenReadingGauge, fields: gauge.fields.map((field) => ({ ...field, hidden: true })) };

      await before.read(gauge, 'view', `id:${record.id}`, async () => ({ reading: 110 }));
      await sleep(5);
      const answer = await after.read(redeclared, 'view', `id:${record.id}`, async () => ({}));

      expect(answer).toEqual({});
      expect(new Set(fake.writes.map(({ key }) => key)).size).toBe(2);
    });
  });
});
