/** Thresholds of `EntitiesHealthIndicator`, from `forRoot({ health })` or per check. */
export interface EntitiesHealthOptions {
  /**
   * The store is `down` when the file system holding it has less free space than this, in
   * bytes. lmdb grows its memory map on its own as data is added, so this free space is the
   * map's real headroom. Default 64 MiB.
   */
  minHeadroomBytes?: number;
  /** Prove that the store takes writes by committing a small heartbeat, durably, at each check. Default `true`. */
  writeProbe?: boolean;
  /**
   * How long the heartbeat may take to commit, in ms, before the store reads as `down` (another
   * process may hold LMDB's write lock, or the disk not answer). Default 5000.
   */
  writeProbeTimeout?: number;
}

/** What a check reports beside its `status`. */
export interface EntitiesHealthDetails {
  open: boolean;
  /** Whether the heartbeat committed (absent when not probed). */
  writable?: boolean;
  mapSizeBytes?: number;
  mapUsedBytes?: number;
  /** Free space the store can still grow into. */
  headroomBytes?: number;
  minHeadroomBytes: number;
  /** With replication: the last message this instance applied, and the stream's last one when the stream answered. */
  replication?: ReplicationHealth;
  /** Why the store is `down`. */
  message?: string;
}

/** The replication part of a health check. */
export interface ReplicationHealth {
  appliedSeq: number;
  streamLastSeq?: number;
}

/**
 * A `@nestjs/terminus` health indicator result, `{ [key]: { status, ...details } }`, declared
 * here so the package's types do not need terminus installed.
 */
export type EntitiesHealthResult<Key extends string = string> = Record<Key, EntitiesHealthDetails & { status: 'up' | 'down' }>;
