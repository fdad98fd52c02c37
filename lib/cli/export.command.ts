import type { Command } from 'commander';
import { DELETED_AT } from '../common/metadata.constants.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { undeclaredFields } from '../storage/undeclared-fields.util.js';
import { startProgress, tell, writeLine } from './cli-output.util.js';
import type { ExportHeader, ExportLine } from './export-line.interface.js';
import { entityNamed, refuseUnsettledSchemas, withStore } from './store-session.util.js';

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write the records of one entity, or of all, to stdout as NDJSON: a catalog line, then {"entity":…,"record":{…}} per record')
    .argument('[entity]', 'entity name; default: every entity')
    .action(async (entity: string | undefined, _options: object, command: Command) => {
      const { path } = command.optsWithGlobals<{ path: string }>();
      await withStore(path, {}, async (session) => {
        const targets = entity === undefined ? session.definitions : [entityNamed(session, entity)];
        const tables = targets.map((definition) => session.storage.tablesOf(definition));
        const exported = new Set(targets.map((definition) => definition.name));
        // The header's versions are then the records' own, which an import checks.
        refuseUnsettledSchemas(session, targets);
        const header: ExportHeader = {
          catalog: { entities: session.catalog!.entities.filter((entity) => exported.has(entity.name)), options: session.catalog!.options },
        };
        // The reader has gone (`| head`): nobody reads the rest, nor how much there was.
        if (!(await writeLine(JSON.stringify(header)))) return;
        const progress = startProgress(() => tables.reduce((sum, { records, deleted }) => sum + records.getCount() + (deleted?.getCount() ?? 0), 0), 'records');
        let written = 0;
        // Soft-deleted records are data too (restorable until purged): they follow the live ones,
        // with their deletedAt. Every entity is read from one snapshot, held for as long as the
        // export takes: a record deleted or restored meanwhile is written once, and a record
        // refers only to records the export holds, as in the store when the export began.
        session.storage.renewSnapshot();
        const transaction = session.storage.environment.useReadTransaction();
        try {
          for (const { definition, records, deleted } of tables) {
            for (const source of deleted ? [records, deleted] : [records]) {
              for (const { value } of source.getRange({ transaction })) {
                const line: ExportLine = { entity: definition.name, record: declaredPart(definition, value, source === deleted) };
                if (!(await writeLine(JSON.stringify(line)))) return;
                progress.increment();
                written++;
              }
            }
          }
        } finally {
          transaction.done();
          progress.stop();
        }
        tell(`exported ${written} records of ${targets.map((definition) => definition.name).join(', ') || 'no entity'}`);
      });
    });
}

/**
 * The record as the app reads it. Values of fields the entity no longer declares (removed
 * from the class, not yet dropped) are left out: the app never returns them, and an import
 * refuses undeclared fields. A backup keeps them.
 */
function declaredPart(definition: EntityDefinition, record: Record<string, unknown>, isDeleted: boolean): Record<string, unknown> {
  const undeclared = new Set(undeclaredFields(definition, record).filter((field) => !(isDeleted && field === DELETED_AT)));
  if (undeclared.size === 0) return record;
  return Object.fromEntries(Object.entries(record).filter(([field]) => !undeclared.has(field)));
}
