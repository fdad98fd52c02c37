import type { Command } from 'commander';
import type { StoreStat } from '../storage/store-stat.interface.js';
import { storeStat } from '../storage/store-stat.util.js';
import { writeLine } from './cli-output.util.js';
import { withStore } from './store-session.util.js';

export function registerStatCommand(program: Command): void {
  program
    .command('stat')
    .description('per entity: records, index sizes, history; the log; how much of the LMDB map is used (like mdb_stat)')
    .option('--json', 'print one JSON object instead of a table')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { path } = command.optsWithGlobals<{ path: string }>();
      await withStore(path, {}, async (session) => {
        const stat = await storeStat(session.storage, session.definitions);
        if (options.json) await writeLine(JSON.stringify(stat, null, 2));
        else for (const line of table(stat)) await writeLine(line);
      });
    });
}

function table(stat: StoreStat): string[] {
  const lines = [
    `store ${stat.path}`,
    `map: ${bytes(stat.map.used)} of ${bytes(stat.map.size)} used (${stat.map.usedPercent}%), file ${bytes(stat.map.fileBytes)}, ` +
      `${bytes(stat.map.diskFree)} free on disk, page ${stat.map.pageSize} B, readers ${stat.map.readers}/${stat.map.maxReaders}`,
    `log: ${stat.log.events} events, seq ${stat.log.firstSeq}..${stat.log.lastSeq}, ${bytes(stat.log.bytes)}`,
  ];
  for (const entity of stat.entities) {
    const deleted = entity.deletedRecords === undefined ? '' : `, ${entity.deletedRecords} deleted`;
    lines.push(
      `${entity.name}: ${entity.records} records (${bytes(entity.bytes)})${deleted}, ${entity.changes} changes, ${entity.historyEntries} history entries`,
    );
    for (const index of entity.indexes) {
      lines.push(`  index ${index.name}(${index.fields.join(', ')})${index.unique ? ' unique' : ''}: ${index.entries} entries, ${bytes(index.bytes)}`);
    }
  }
  for (const [name, db] of Object.entries(stat.databases)) lines.push(`${name}: ${db.entries} entries, ${bytes(db.bytes)}`);
  return lines;
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
