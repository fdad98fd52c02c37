/** lmdb options a user may tune; the ones that trade away durability are not among them. */
export interface LmdbTuning {
  /** The memory map's starting size in bytes; it grows as the store does. */
  mapSize?: number;
  /** The page size of a new store, in bytes (a power of two); an existing store keeps its own. */
  pageSize?: number;
  /** How many read transactions may be open at once, over every process. */
  maxReaders?: number;
}

/** How long the event log is kept. Default: everything. */
export interface EventRetention {
  /** Keep at most this many of the newest events. */
  maxEvents?: number;
  /** Drop events older than this many milliseconds. */
  maxAgeMs?: number;
}

/** Storage settings taken from `EntitiesModule.forRoot()`. */
export interface StorageOptions {
  /** How long idempotency keys are remembered, in ms. Default 24 h. */
  idempotencyTtl?: number;
  eventRetention?: EventRetention;
  /** How often expired idempotency keys and old events are purged, in ms. Default 1 h. */
  maintenanceInterval?: number;
  /** Seals list cursors with a key derived from this secret instead of the store's own random key. */
  cursorSecret?: string | Uint8Array;
  /**
   * When records go through their entities' `@Entity({ migrations })`: `'on-start'` (default)
   * as the store opens, before the app serves; `'manual'` only by the `migrate` command, the
   * app refusing to start while records wait for a step.
   */
  migrate?: 'on-start' | 'manual';
  /** Times and traces every transaction of `EntityStorage.write`. */
  observer?: StorageObserver;
}

/** Wraps each write transaction, for metrics and tracing. */
export interface StorageObserver {
  /** Must call `run` once and return what it returns (its rejection included). */
  transaction<R>(run: () => Promise<R>): Promise<R>;
}
