import { createKeyv } from '@cacheable/memory';
import { createHash } from 'node:crypto';
import { EntitiesLogger } from '../common/entities.logger.js';
import { withinTime } from '../common/within-time.util.js';
import { createCache, type Cache } from 'cache-manager';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import { catalogEntityOf } from '../storage/store-catalog.util.js';
import type { EntityCacheMetrics, EntityCacheOptions } from '../common/entity-cache-options.interface.js';

const DEFAULT_TTL = 60_000;
const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_TIMEOUT = 100;
/** How long a cache that failed or did not answer in time is left alone before it is asked again. */
const RETRY_AFTER = 1_000;

/**
 * Reads served through cache-manager that can never be stale. Every key holds the entity's
 * change mark (the id of its last change), which lives in LMDB and moves in the transaction
 * of each change: once a write is acknowledged, every process (and every instance sharing a
 * Redis store) reads the new mark and so a new key; the old entries are simply never asked for again and
 * expire. Each key also holds the caller's view (fields it may not read, record-level
 * access), so one principal never gets another's answer, and a digest of how the entity is
 * declared, so an instance deployed with other fields or rules never gets an older one's. A
 * cache error, or a cache that does not answer within `timeout`, falls back to the store.
 */
export class EntityCache {
  private readonly logger = new EntitiesLogger('EntitiesCache');
  private readonly manager: Cache;
  private readonly counters = new Map<string, EntityCacheMetrics & { lastSeen: number }>();
  private readonly shapes = new WeakMap<EntityDefinition, string>();
  /** A cache of the app's own may be remote: its reads are bounded by `timeout`. */
  private readonly timeout: number | undefined;
  /** Until when a failing cache is left alone (ms since the epoch). */
  private unavailableUntil = 0;

  /** @internal */
  constructor(
    private readonly storage: EntityStorage,
    private readonly options: EntityCacheOptions = {},
  ) {
    // cache-manager's own default is a Map that drops an expired entry only when it is read
    // again, which entries under an old mark never are: it would grow for as long as the app
    // runs. An LRU holds at most `maxEntries`, expired or not.
    this.manager =
      options.manager ??
      createCache({
        stores: [
          createKeyv({
            // No expiry sweep: its timers would outlive the app, and the LRU bounds the store anyway.
            lruSize: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
            // Values are never changed once cached; one map, since hashing each key into one of
            // several cost a hit 2 µs (they only pay past a Map's 16M entries).
            useClone: false,
            storeHashSize: 1,
          }),
        ],
      });
    this.timeout = options.manager ? (options.timeout ?? DEFAULT_TIMEOUT) : undefined;
  }

  /**
   * Whether reads of the entity go through the cache.
   * @internal
   */
  caches(definition: EntityDefinition): boolean {
    return definition.cached !== undefined || this.options.all === true;
  }

  /**
   * The cached answer of a read, or `load()`'s, which is then cached. `load` must read the
   * store synchronously up to its first `await`: the counter is read in the same step, so
   * an answer is only ever cached under the counter of the state it was read from.
   * @internal
   */
  async read<T>(definition: EntityDefinition, viewOf: string | (() => string), key: string, load: () => Promise<T>): Promise<T> {
    if (!this.caches(definition)) return load();
    const metrics = this.metricsOf(definition);
    const seen = this.markOf(definition, metrics);
    // Worked out after the mark renewed the snapshot: a view naming the grants' version reads it as of now.
    const view = typeof viewOf === 'string' ? viewOf : viewOf();
    const cacheKey = (mark: string) => `nde:${definition.name}:${this.shapeOf(definition)}:${mark}:${view}:${key}`;
    const usable = Date.now() >= this.unavailableUntil;
    if (usable) {
      try {
        const hit = await this.bounded(this.manager.get<T>(cacheKey(seen)));
        if (hit !== undefined && hit !== null) {
          metrics.hits++;
          return hit;
        }
      } catch (error) {
        this.leaveAlone(`cache read failed, reading the store: ${(error as Error).message}`);
      }
    }
    metrics.misses++;
    const mark = this.markOf(definition, metrics);
    const value = await load();
    // A cache that is down may queue writes for as long as it stays down: none are sent then.
    if (value !== undefined && value !== null && Date.now() >= this.unavailableUntil) {
      const ttl = definition.cached?.ttl ?? this.options.ttl ?? DEFAULT_TTL;
      const failed = (error: Error) => this.leaveAlone(`cache write failed: ${error.message}`);
      try {
        this.manager.set(cacheKey(mark), value, ttl).catch(failed);
      } catch (error) {
        failed(error as Error);
      }
    }
    return value;
  }

  /** `read`, failing after `timeout` when the cache is the app's own: a client may hold commands while its server is away. */
  private bounded<T>(read: Promise<T>): Promise<T> {
    const timeout = this.timeout;
    return timeout === undefined ? read : withinTime(read, timeout, () => new Error(`no answer within ${timeout} ms`));
  }

  /** Reads and writes skip the cache for a while; one warning per outage. */
  private leaveAlone(message: string): void {
    const now = Date.now();
    if (now >= this.unavailableUntil + RETRY_AFTER) this.logger.warn(`${message}; leaving the cache alone for ${RETRY_AFTER} ms`);
    this.unavailableUntil = now + RETRY_AFTER;
  }

  /** How the entity is stored and answered (fields, hidden ones, history policies, version), digested. */
  private shapeOf(definition: EntityDefinition): string {
    let shape = this.shapes.get(definition);
    if (shape === undefined) {
      shape = createHash('sha256')
        .update(JSON.stringify(catalogEntityOf(definition)))
        .digest('base64url')
        .slice(0, 11);
      this.shapes.set(definition, shape);
    }
    return shape;
  }

  /** Hits, misses and invalidations per entity name, counted in this process. */
  metrics(): Record<string, EntityCacheMetrics> {
    return Object.fromEntries([...this.counters].map(([name, { hits, misses, invalidations }]) => [name, { hits, misses, invalidations }]));
  }

  /**
   * The entity's current change mark, read from a fresh snapshot. Keys hold the id of the
   * last change rather than a count: counts start alike in every store, so two stores on
   * one shared cache, or a copy of a store, would otherwise read each other's answers.
   */
  private markOf(definition: EntityDefinition, metrics: EntityCacheMetrics & { lastSeen: number }): string {
    const { count, lastEventId, trims } = this.storage.changeMark(definition);
    if (count > metrics.lastSeen && metrics.lastSeen >= 0) metrics.invalidations += count - metrics.lastSeen;
    metrics.lastSeen = count;
    // A rebuild of damaged indexes changes what lists answer though no record changed.
    const reindexed = this.storage.reindexedCount(definition);
    return `${lastEventId || '-'}${trims === undefined ? '' : `~${trims}`}${reindexed === 0 ? '' : `^${reindexed}`}`;
  }

  private metricsOf(definition: EntityDefinition): EntityCacheMetrics & { lastSeen: number } {
    let metrics = this.counters.get(definition.name);
    if (!metrics) {
      metrics = { hits: 0, misses: 0, invalidations: 0, lastSeen: -1 };
      this.counters.set(definition.name, metrics);
    }
    return metrics;
  }
}
