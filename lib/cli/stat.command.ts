import { statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { DatabaseStat, EnvironmentStat } from '../storage/environment-stat.interface.js';
import { writeLine } from './cli-output.util.js';
import { withStore, type StoreSession } from './store-session.util.js';

const EMPTY: DatabaseStat = { entries: 0, depth: 0, pages: 0, bytes: 0 };

/** What `stat` reports, as `--json` prints it. */
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
    changes: number;
    historyEntries: number;
    indexes: Array<{ name: string; fields: readonly string[]; unique: boolean; entries: number; bytes: number }>;
  }>;
  /** The package's own databases (audit trail, grants, idempotency keys, metadata). */
  databases: Record<string, DatabaseStat>;
}

export function registerStatCommand(program: Command): void {
  program
    .command('stat')
    .description('per entity: records, index sizes, history; the log; how much of the LMDB map is used (like mdb_stat)')
    .option('--json', 'print one JSON object instead of a table')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { path } = command.optsWithGlobals<{ path: string }>();
      await withStore(path, {}, async (session) => {
        const stat = storeStat(session);
        if (options.json) await writeLine(JSON.stringify(stat, null, 2));
        else for (const line of table(stat)) await writeLine(line);
      });
    });
}

function storeStat(session: StoreSession): StoreStat {
  const { storage, environment } = session;
  const env: EnvironmentStat = environment.stat();
  const db = (name: string) => env.databases[name] ?? EMPTY;
  const own = new Set<string>();
  const take = (name: string) => (own.add(name), db(name));
  const entities = session.definitions.map((definition) => {
    const records = take(`${definition.name}.records`);
    return {
      name: definition.name,
      records: records.entries,
      bytes: records.bytes,
      changes: storage.changeMark(definition).count,
      historyEntries: take(`${definition.name}.history`).entries,
      indexes: definition.indexes.map((index) => {
        const stat = take(`${definition.name}.index.${index.name}`);
        return { name: index.name, fields: index.fields, unique: index.unique, entries: stat.entries, bytes: stat.bytes };
      }),
    };
  });
  const log = take('_log');
  return {
    path: session.path,
    map: {
      size: env.mapSize,
      used: env.usedBytes,
      usedPercent: Math.round((env.usedBytes / env.mapSize) * 1000) / 10,
      pageSize: env.pageSize,
      fileBytes: statSync(join(session.path, 'data.mdb')).size,
      diskFree: diskFree(session.path),
      readers: env.readers,
      maxReaders: env.maxReaders,
    },
    log: { events: log.entries, firstSeq: storage.log.firstSeq(), lastSeq: storage.log.lastSeq(), bytes: log.bytes },
    entities,
    databases: Object.fromEntries(Object.entries(env.databases).filter(([name]) => !own.has(name))),
  };
}

function table(stat: StoreStat): string[] {
  const lines = [
    `store ${stat.path}`,
    `map: ${bytes(stat.map.used)} of ${bytes(stat.map.size)} used (${stat.map.usedPercent}%), file ${bytes(stat.map.fileBytes)}, ` +
      `${bytes(stat.map.diskFree)} free on disk, page ${stat.map.pageSize} B, readers ${stat.map.readers}/${stat.map.maxReaders}`,
    `log: ${stat.log.events} events, seq ${stat.log.firstSeq}..${stat.log.lastSeq}, ${bytes(stat.log.bytes)}`,
  ];
  for (const entity of stat.entities) {
    lines.push(`${entity.name}: ${entity.records} records (${bytes(entity.bytes)}), ${entity.changes} changes, ${entity.historyEntries} history entries`);
    for (const index of entity.indexes) {
      lines.push(`  index ${index.name}(${index.fields.join(', ')})${index.unique ? ' unique' : ''}: ${index.entries} entries, ${bytes(index.bytes)}`);
    }
  }
  for (const [name, db] of Object.entries(stat.databases)) lines.push(`${name}: ${db.entries} entries, ${bytes(db.bytes)}`);
  return lines;
}

function diskFree(path: string): number {
  const stats = statfsSync(path);
  return stats.bavail * stats.bsize;
}

function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = count / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
