import { EntitiesLogger } from '../common/entities.logger.js';
import { createCache, type Cache } from 'cache-manager';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import type { EntityCacheMetrics, EntityCacheOptions } from '../common/entity-cache-options.interface.js';

const DEFAULT_TTL = 60_000;

/**
 * Reads served through cache-manager that can never be stale. Every key holds the entity's
 * change mark (the id of its last change), which lives in LMDB and moves in the transaction
 * of each change: once a write is acknowledged, every process (and every instance sharing a
 * Redis store) reads the new mark and so a new key; the old entries are simply never asked for again and
 * expire. Each key also holds the caller's view (fields it may not read, record-level
 * access), so one principal never gets another's answer. A cache error falls back to the store.
 */
export class EntityCache {
  private readonly logger = new EntitiesLogger('EntitiesCache');
  private readonly manager: Cache;
  private readonly counters = new Map<string, EntityCacheMetrics & { lastSeen: number }>();

  /** @internal */
  constructor(
    private readonly storage: EntityStorage,
    private readonly options: EntityCacheOptions = {},
  ) {
    this.manager = options.manager ?? createCache();
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
  async read<T>(definition: EntityDefinition, view: string, key: string, load: () => Promise<T>): Promise<T> {
    if (!this.caches(definition)) return load();
    const metrics = this.metricsOf(definition);
    const cacheKey = (mark: string) => `nde:${definition.name}:${mark}:${view}:${key}`;
    const seen = this.markOf(definition, metrics);
    try {
      const hit = await this.manager.get<T>(cacheKey(seen));
      if (hit !== undefined && hit !== null) {
        metrics.hits++;
        return hit;
      }
    } catch (error) {
      this.logger.warn(`cache read failed, reading the store: ${(error as Error).message}`);
    }
    metrics.misses++;
    const mark = this.markOf(definition, metrics);
    const value = await load();
    if (value !== undefined && value !== null) {
      const ttl = definition.cached?.ttl ?? this.options.ttl ?? DEFAULT_TTL;
      const failed = (error: Error) => this.logger.warn(`cache write failed: ${error.message}`);
      try {
        this.manager.set(cacheKey(mark), value, ttl).catch(failed);
      } catch (error) {
        failed(error as Error);
      }
    }
    return value;
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
    const { count, lastEventId } = this.storage.changeMark(definition);
    if (count > metrics.lastSeen && metrics.lastSeen >= 0) metrics.invalidations += count - metrics.lastSeen;
    metrics.lastSeen = count;
    return lastEventId || '-';
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
