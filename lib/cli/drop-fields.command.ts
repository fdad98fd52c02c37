import type { Command } from 'commander';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import type { Database } from 'lmdb';
import type { DeletedRecord, StoredRecord } from '../storage/entity-event.interface.js';
import { withoutDeletedAt } from '../storage/event-applier.util.js';
import { undeclaredFields } from '../storage/undeclared-fields.util.js';
import type { WriteTransaction } from '../storage/write-transaction.store.js';
import { integerAtLeast } from './cli-arguments.util.js';
import { tell, withProgress, writeLine, type Progress } from './cli-output.util.js';
import { entityNamed, refuseUnsettledSchemas, withStore } from './store-session.util.js';

interface DropFieldsOptions {
  dryRun?: boolean;
  batchSize: number;
  actor?: string;
  force?: boolean;
}

export function registerDropFieldsCommand(program: Command): void {
  program
    .command('drop-fields')
    .description(
      'remove from stored records the fields their entity no longer declares (per the catalog the app last recorded), ' +
        'each record as an update event, one transaction per batch; --dry-run lists them and changes nothing (refused while an app writes)',
    )
    .argument('[entity]', 'entity name; default: every entity')
    .option('--dry-run', 'list the records and fields it would change, and change nothing')
    .option('--batch-size <n>', 'records per transaction', integerAtLeast(1), 1000)
    .option('--actor <id>', 'actor recorded on the events and audit entries')
    .option('--force', 'run even though a writer is listed as running')
    .action(async (entity: string | undefined, options: DropFieldsOptions, command: Command) => {
      const { path } = command.optsWithGlobals<{ path: string }>();
      // A dry run only reads, so it opens the store read-only and runs beside an app.
      const access = options.dryRun ? {} : { writerRole: 'cli drop-fields', force: options.force, changesState: true };
      await withStore(path, access, async (session) => {
        const targets = entity === undefined ? session.definitions : [entityNamed(session, entity)];
        refuseUnsettledSchemas(session, targets);
        const summary: string[] = [];
        await withProgress(
          () =>
            targets.reduce((sum, definition) => {
              const { records, deleted } = session.storage.tablesOf(definition);
              return sum + records.getCount() + (deleted?.getCount() ?? 0);
            }, 0),
          'records',
          async (progress) => {
            for (const definition of targets) {
              const dropped = await dropFields(session.storage, definition, options, progress);
              if (dropped.size > 0)
                summary.push(
                  `${definition.name}: ${[...dropped]
                    .sort(([a], [b]) => a.localeCompare(b))
                    .map(([field, count]) => `${field} (${count} records)`)
                    .join(', ')}`,
                );
            }
          },
        );
        const verb = options.dryRun ? 'would drop' : 'dropped';
        tell(summary.length === 0 ? 'no stored record holds a field its entity no longer declares' : `${verb} ${summary.join('; ')}`);
      });
    });
}

/**
 * Walks one entity's records in id order, then its soft-deleted ones (which a restore would
 * bring back with the fields), a batch at a time, each batch read from a fresh snapshot and
 * changed in one write transaction; prints `<entity> <id>: <fields>` for each record it
 * changes (or would), `<entity> <id> (deleted): <fields>` for a deleted one. Returns how many
 * records held each dropped field.
 */
async function dropFields(storage: EntityStorage, definition: EntityDefinition, options: DropFieldsOptions, progress: Progress): Promise<Map<string, number>> {
  const { records, deleted } = storage.tablesOf(definition);
  const dropped = new Map<string, number>();
  const context = options.actor === undefined ? {} : { actor: options.actor };
  const sources = [
    {
      table: records,
      label: '',
      undeclared: (record: StoredRecord) => undeclaredFields(definition, record),
      drop: (tx: WriteTransaction, id: string) => (tx.get(definition, id) ? tx.dropUndeclaredFields(definition, id, context) : []),
    },
    ...(deleted
      ? [
          {
            table: deleted as Database<StoredRecord, string>,
            label: ' (deleted)',
            undeclared: (record: StoredRecord) => undeclaredFields(definition, withoutDeletedAt(record as DeletedRecord)),
            drop: (tx: WriteTransaction, id: string) => tx.dropUndeclaredFieldsOfDeleted(definition, id, context),
          },
        ]
      : []),
  ];
  for (const { table, label, undeclared, drop } of sources) {
    let after: string | undefined;
    for (;;) {
      storage.renewSnapshot();
      const page = [...table.getRange({ ...(after !== undefined && { start: after }), limit: options.batchSize + 1 })]
        .filter(({ key }) => key !== after)
        .slice(0, options.batchSize);
      if (page.length === 0) break;
      after = page.at(-1)!.key;
      const planned = page.flatMap(({ key, value }) => {
        const fields = undeclared(value);
        return fields.length === 0 ? [] : [{ id: key, fields }];
      });
      // Decided again inside the transaction, on the records as they are then.
      const changes =
        options.dryRun || planned.length === 0
          ? planned
          : await storage.write((tx) =>
              planned.flatMap(({ id }) => {
                const fields = drop(tx, id);
                return fields.length === 0 ? [] : [{ id, fields }];
              }),
            );
      for (const { id, fields } of changes) {
        await writeLine(`${definition.name} ${id}${label}: ${fields.join(', ')}`);
        for (const field of fields) dropped.set(field, (dropped.get(field) ?? 0) + 1);
      }
      progress.increment(page.length);
    }
  }
  return dropped;
}
