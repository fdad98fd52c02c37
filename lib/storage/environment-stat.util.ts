import type { Database, RootDatabase } from 'lmdb';
import type { DatabaseStat, EnvironmentStat, LmdbStats } from './environment-stat.interface.js';

/** LMDB's figures for the environment and for each of `databases`, as `mdb_stat` reports them, from the current snapshot. */
export function environmentStat(root: RootDatabase, databases: ReadonlyMap<string, Database>): EnvironmentStat {
  const env = root.getStats() as LmdbStats;
  const stats: Record<string, DatabaseStat> = {};
  for (const [name, db] of databases) {
    const stat = db.getStats() as LmdbStats;
    const pages = stat.treeBranchPageCount + stat.treeLeafPageCount + stat.overflowPages;
    stats[name] = { entries: stat.entryCount, depth: stat.treeDepth, pages, bytes: pages * stat.pageSize };
  }
  return {
    mapSize: env.mapSize,
    pageSize: env.pageSize,
    usedBytes: (env.lastPageNumber + 1) * env.pageSize,
    lastTxnId: env.lastTxnId,
    readers: env.numReaders,
    maxReaders: env.maxReaders,
    databases: stats,
  };
}
