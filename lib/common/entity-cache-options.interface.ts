import type { Cache } from 'cache-manager';

/** `forRoot({ cache })`: how reads are cached. */
export interface EntityCacheOptions {
  /**
   * The cache-manager instance to use, e.g. `createCache({ stores: [new Keyv({ store: new KeyvRedis(url) })] })`
   * to share one Redis between instances. Default: an in-memory cache per process.
   */
  manager?: Cache;
  /** Time to live of cached reads, in ms, for entities whose `@Cached()` sets none. Default 60 000. */
  ttl?: number;
  /** Cache every entity, not only those marked `@Cached()`. Default `false`. */
  all?: boolean;
  /**
   * Entries the default in-memory cache holds at most; the least recently used go first.
   * Not used with `manager`, whose own store decides. Default 10 000.
   */
  maxEntries?: number;
  /**
   * How long a read waits for `manager`'s answer, in ms, before reading the store instead; a
   * cache that fails or is late is then left alone for a second. Default 100.
   */
  timeout?: number;
}

/** Cache counters of one entity, as `EntityCache.metrics()` returns them. */
export interface EntityCacheMetrics {
  hits: number;
  misses: number;
  /** Changes seen that made cached reads of the entity unreachable. */
  invalidations: number;
}
