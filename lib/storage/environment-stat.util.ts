import type { Database, RootDatabase } from 'lmdb';
import type { DatabaseStat, EnvironmentStat, LmdbStats } from './environment-stat.interface.js';

/** LMDB's figures for the environment and for each of `databases`, as `mdb_stat` reports them, from the current snapshot. */
export function environmentStat(root: RootDatabase, databases: ReadonlyMap<string, Database>): EnvironmentStat {
  const env = root.getStats() as LmdbStats;
  const stats: Record<string, DatabaseStat> = {};
  for (const [name, db] of databases) {
    const stat = db.getStats() as LmdbStats;
    const pages = stat.treeBranchPageCount + stat.treeLeafPageCount + stat.overflowPages;
    // The shared msgpack structures are an entry of their own, not one of the database's; the
    // database's own key says where they are, so this never disagrees with how it was opened.
    const structuresKey = (db as { sharedStructuresKey?: unknown }).sharedStructuresKey;
    const structures = structuresKey !== undefined && db.getBinary(structuresKey as never) !== undefined ? 1 : 0;
    stats[name] = { entries: stat.entryCount - structures, depth: stat.treeDepth, pages, bytes: pages * stat.pageSize };
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
