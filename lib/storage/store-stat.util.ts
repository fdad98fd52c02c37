import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { freeDiskBytes } from './disk-space.util.js';
import type { EntityStorage } from './entity-storage.store.js';
import type { DatabaseStat, EnvironmentStat } from './environment-stat.interface.js';
import type { StoreStat } from './store-stat.interface.js';

const EMPTY: DatabaseStat = { entries: 0, depth: 0, pages: 0, bytes: 0 };

/** Records, index entries, history, the log and the LMDB map of the store `storage` holds open, for the entities it knows. */
export async function storeStat(storage: EntityStorage, definitions: readonly EntityDefinition[]): Promise<StoreStat> {
  const environment = storage.environment;
  const path = environment.path;
  const env: EnvironmentStat = environment.stat();
  const db = (name: string) => env.databases[name] ?? EMPTY;
  const own = new Set<string>();
  const take = (name: string) => (own.add(name), db(name));
  const entities = definitions.map((definition) => {
    const records = take(`${definition.name}.records`);
    // Where a store older than format 6 kept history: counted with the entries below.
    own.add(`${definition.name}.history`);
    return {
      name: definition.name,
      records: records.entries,
      bytes: records.bytes,
      ...(definition.softDelete && { deletedRecords: take(`${definition.name}.deleted`).entries }),
      changes: storage.changeMark(definition).count,
      historyEntries: storage.tablesOf(definition).history.count(),
      indexes: definition.indexes.map((index) => {
        const stat = take(`${definition.name}.index.${index.name}`);
        return { name: index.name, fields: index.fields, unique: index.unique, entries: stat.entries, bytes: stat.bytes };
      }),
    };
  });
  const log = take('_log');
  return {
    path,
    map: {
      size: env.mapSize,
      used: env.usedBytes,
      usedPercent: Math.round((env.usedBytes / env.mapSize) * 1000) / 10,
      pageSize: env.pageSize,
      fileBytes: statSync(join(path, 'data.mdb')).size,
      diskFree: await freeDiskBytes(path),
      readers: env.readers,
      maxReaders: env.maxReaders,
    },
    log: { events: log.entries, firstSeq: storage.log.firstSeq(), lastSeq: storage.log.lastSeq(), bytes: log.bytes },
    entities,
    databases: Object.fromEntries(Object.entries(env.databases).filter(([name]) => !own.has(name))),
  };
}
