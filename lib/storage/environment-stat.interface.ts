/** One database as `mdb_stat` reports it; `bytes` is its pages times the page size. */
export interface DatabaseStat {
  entries: number;
  depth: number;
  pages: number;
  bytes: number;
}

/** The environment's map and readers, and each open database. */
export interface EnvironmentStat {
  mapSize: number;
  pageSize: number;
  /** Up to the last page in use: how much of the map the data file takes. */
  usedBytes: number;
  lastTxnId: number;
  readers: number;
  maxReaders: number;
  databases: Record<string, DatabaseStat>;
}

/** What lmdb's `getStats()` returns (its typings say only `{}`). */
export interface LmdbStats {
  pageSize: number;
  treeDepth: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  entryCount: number;
  overflowPages: number;
  mapSize: number;
  lastPageNumber: number;
  lastTxnId: number;
  maxReaders: number;
  numReaders: number;
}
