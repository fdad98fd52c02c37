import type { DatabaseStat } from './environment-stat.interface.js';

/** The sizes of a store: what the command line's `stat` reports (`--json` prints it) and `EntitiesMaintenance.stat()` returns. */
export interface StoreStat {
  path: string;
  /** `size` is the map as lmdb has it now (it grows the map as the data grows); `diskFree` is the real limit. */
  map: {
    size: number;
    used: number;
    usedPercent: number;
    pageSize: number;
    fileBytes: number;
    diskFree: number;
    readers: number;
    maxReaders: number;
  };
  log: { events: number; firstSeq: number; lastSeq: number; bytes: number };
  entities: Array<{
    name: string;
    records: number;
    bytes: number;
    /** Soft-deleted records kept, restorable (entities with `softDelete` only). */
    deletedRecords?: number;
    changes: number;
    historyEntries: number;
    indexes: Array<{ name: string; fields: readonly string[]; unique: boolean; entries: number; bytes: number }>;
  }>;
  /** The package's own databases (audit trail, grants, idempotency keys, metadata). */
  databases: Record<string, DatabaseStat>;
}
