import type { Command } from 'commander';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { integerAtLeast } from './cli-arguments.util.js';
import { CliFailure } from './cli-failure.exception.js';
import { startProgress, tell } from './cli-output.util.js';
import { EXIT_CODES } from './exit-code.constants.js';
import { importBatch, type InputLine } from './import-batch.util.js';
import { headerCatalog, inputLines, inputSize, openInput } from './ndjson-input.util.js';
import { refuseUnsettledSchemas, withStore } from './store-session.util.js';
import { describeDangling } from '../storage/dangling-references.util.js';
import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import type { StoreCatalog } from '../storage/store-catalog.util.js';

/** How many dangling references a failed import names; `verify` lists every one. */
const DANGLING_LISTED = 20;

interface ImportOptions {
  batchSize: number;
  actor?: string;
  create?: boolean;
  force?: boolean;
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('store the records of an export, each as a created event of the log, one transaction per batch (refused while an app writes)')
    .argument('[file]', 'NDJSON as export writes it; default: stdin')
    .option('--batch-size <n>', 'records per transaction', integerAtLeast(1), 1000)
    .option('--actor <id>', 'actor recorded on the events and audit entries')
    .option('--create', "where --path holds no store, create one from the export's catalog line")
    .option('--force', 'run even though a writer is listed as running')
    .action(async (file: string | undefined, options: ImportOptions, command: Command) => {
      const { path } = command.optsWithGlobals<{ path: string }>();
      const lines = inputLines(openInput(file));
      const first = await lines.next();
      const catalog = first.done ? undefined : headerCatalog(first.value);
      if (options.create && !catalog) {
        throw new CliFailure('--create needs the input to start with the catalog line that export writes', EXIT_CODES.usage);
      }
      const pending = first.done || catalog ? [] : [first.value];
      const access = {
        writerRole: 'cli import',
        changesState: true,
        force: options.force,
        createWith: options.create ? catalog : undefined,
        missingStoreHint: 'check --path, or pass --create to make a new store there from the export',
      };
      await withStore(path, access, async (session) => {
        const { storage, definitions } = session;
        refuseUnsettledSchemas(session);
        if (catalog) refuseOtherSchemaVersions(storage, catalog);
        const byName = new Map(definitions.map((definition) => [definition.name, definition]));
        const progress = startProgress(() => inputSize(file), 'bytes');
        if (catalog) progress.increment(first.value!.bytes);
        const totals = { imported: 0, skipped: 0, batches: 0 };
        // What this import stored with references, checked once all is in: dangling references
        // the store held before are verify's to report, not this import's.
        const referring = new Map<string, string[]>();
        const lacking = new Map<string, number>();
        const stored = (definition: EntityDefinition, record: StoredRecord) => {
          for (const field of definition.fields) {
            if (!field.required || record[field.name] !== undefined) continue;
            const name = `${definition.name}.${field.name}`;
            lacking.set(name, (lacking.get(name) ?? 0) + 1);
          }
          if (definition.references.length === 0) return;
          const ids = referring.get(definition.name);
          if (ids) ids.push(record.id);
          else referring.set(definition.name, [record.id]);
        };
        let batch: InputLine[] = [];
        const flush = async () => {
          if (batch.length === 0) return;
          const current = batch;
          batch = [];
          try {
            const imported: Array<[EntityDefinition, StoredRecord]> = [];
            const outcome = await storage.write((tx) => {
              // A write that has to start again runs this again: only its last run is stored.
              imported.length = 0;
              return importBatch(
                tx,
                current,
                (name) => byName.get(name),
                options.actor,
                (definition, record) => imported.push([definition, record]),
              );
            });
            for (const [definition, record] of imported) stored(definition, record);
            totals.imported += outcome.imported;
            totals.skipped += outcome.skipped;
            totals.batches++;
          } catch (error) {
            progress.stop();
            throw new CliFailure(
              `batch ${totals.batches + 1} (lines ${current[0]!.number}-${current.at(-1)!.number}) was not stored: ${(error as Error).message}. ` +
                `The ${totals.batches} batch(es) before it are stored (${totals.imported + totals.skipped} records); fix the input and run the ` +
                'same import again: records already stored as the input has them are skipped.',
              EXIT_CODES.failed,
            );
          }
        };
        for await (const line of pendingThen(pending, lines)) {
          progress.increment(line.bytes);
          batch.push(line);
          if (batch.length >= options.batchSize) await flush();
        }
        await flush();
        progress.stop();
        // As the store they came from held them (stored before the field was required): read
        // without it, like there, until a migration step fills it.
        for (const [field, records] of lacking) {
          tell(`${field} is required, but ${records} imported records lack it: add a migration step that fills it`);
        }
        const summary = `imported ${totals.imported} records (${totals.skipped} already stored) in ${totals.batches} batch(es)`;
        const dangling = referring.size > 0 ? storage.danglingReferences(referring) : [];
        if (dangling.length > 0) {
          const listed = dangling.slice(0, DANGLING_LISTED).map((reference) => `  ${describeDangling(reference)}`);
          const more = dangling.length > DANGLING_LISTED ? [`  and ${dangling.length - DANGLING_LISTED} more (verify lists them all)`] : [];
          throw new CliFailure(
            [
              `${summary}, but ${dangling.length} record(s) refer to records the store does not hold:`,
              ...listed,
              ...more,
              'Import the records they refer to (the same import again skips what is stored), or change or delete the records referring.',
            ].join('\n'),
            EXIT_CODES.failed,
          );
        }
        tell(summary);
      });
    });
}

async function* pendingThen<T>(pending: readonly T[], rest: AsyncIterable<T>): AsyncGenerator<T> {
  yield* pending;
  yield* rest;
}

/**
 * Records are stored as the export has them, so they must be at the version the store's
 * records are at: older ones would never go through the steps they missed, and a store
 * created by this import starts at the export's versions.
 */
function refuseOtherSchemaVersions(storage: EntityStorage, catalog: StoreCatalog): void {
  for (const entity of catalog.entities) {
    const exported = entity.version ?? 1;
    const { version, migrating } = storage.schema.of(entity.name);
    if (exported !== version || migrating) {
      throw new CliFailure(
        `the export holds ${entity.name} records at schema version ${exported}, the store's are at ${migrating ? `${version} (migrating to ${migrating.to})` : version}: ` +
          'import into a store at the same version (a new one with --create), then let the app migrate them',
        EXIT_CODES.failed,
      );
    }
  }
}
