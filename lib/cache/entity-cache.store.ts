import { Logger } from '@nestjs/common';
import { createCache, type Cache } from 'cache-manager';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import type { EntityCacheMetrics, EntityCacheOptions } from './entity-cache-options.interface.js';

const DEFAULT_TTL = 60_000;

/**
 * Reads served through cache-manager that can never be stale. Every key holds the entity's
 * change counter, which lives in LMDB and is bumped in the transaction of each change: once
 * a write is acknowledged, every process (and every instance sharing a Redis store) reads
 * the new counter and so a new key; the old entries are simply never asked for again and
 * expire. Each key also holds the caller's view (fields it may not read, record-level
 * access), so one principal never gets another's answer. A cache error falls back to the store.
 */
export class EntityCache {
  private readonly logger = new Logger('EntitiesCache');
  private readonly manager: Cache;
  private readonly counters = new Map<string, EntityCacheMetrics & { lastSeen: number }>();

  constructor(
    private readonly storage: EntityStorage,
    private readonly options: EntityCacheOptions = {},
  ) {
    this.manager = options.manager ?? createCache();
  }

  /** Whether reads of the entity go through the cache. */
  caches(definition: EntityDefinition): boolean {
    return definition.cached !== undefined || this.options.all === true;
  }

  /**
   * The cached answer of a read, or `load()`'s, which is then cached. `load` must read the
   * store synchronously up to its first `await`: the counter is read in the same step, so
   * an answer is only ever cached under the counter of the state it was read from.
   */
  async read<T>(definition: EntityDefinition, view: string, key: string, load: () => Promise<T>): Promise<T> {
    if (!this.caches(definition)) return load();
    const metrics = this.metricsOf(definition);
    const cacheKey = (counter: number) => `nde:${definition.name}:${counter}:${view}:${key}`;
    const seen = this.counterOf(definition, metrics);
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
    const counter = this.counterOf(definition, metrics);
    const value = await load();
    if (value !== undefined && value !== null) {
      const ttl = definition.cached?.ttl ?? this.options.ttl ?? DEFAULT_TTL;
      this.manager.set(cacheKey(counter), value, ttl).catch((error: Error) => this.logger.warn(`cache write failed: ${error.message}`));
    }
    return value;
  }

  /** Hits, misses and invalidations per entity name, counted in this process. */
  metrics(): Record<string, EntityCacheMetrics> {
    return Object.fromEntries([...this.counters].map(([name, { hits, misses, invalidations }]) => [name, { hits, misses, invalidations }]));
  }

  private counterOf(definition: EntityDefinition, metrics: EntityCacheMetrics & { lastSeen: number }): number {
    const counter = this.storage.changeCount(definition);
    if (counter > metrics.lastSeen && metrics.lastSeen >= 0) metrics.invalidations += counter - metrics.lastSeen;
    metrics.lastSeen = counter;
    return counter;
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
