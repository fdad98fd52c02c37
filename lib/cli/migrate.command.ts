import type { Command } from 'commander';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { EntityRegistry } from '../storage/entity-registry.service.js';
import { MigrationFailedException } from '../storage/schema-migration.exception.js';
import type { MigratedRecord } from '../storage/schema-migrator.service.js';
import type { RecordMigration } from '../storage/record-migration.util.js';
import { integerAtLeast } from './cli-arguments.util.js';
import { CliFailure } from './cli-failure.exception.js';
import { tell, writeLine } from './cli-output.util.js';
import { EXIT_CODES } from './exit-code.constants.js';
import { loadEntityDefinitions } from './entities-module-loader.util.js';
import { withStore } from './store-session.util.js';

interface MigrateOptions {
  entities: string;
  dryRun?: boolean;
  batchSize: number;
  actor?: string;
  force?: boolean;
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description(
      "take stored records through the migration steps of their entities' @Entity({ migrations }) that they have not had, " +
        'each record as an update event, one transaction per batch; --dry-run lists what would change and changes nothing',
    )
    .requiredOption('--entities <file>', 'compiled JavaScript module that exports the entity classes (e.g. dist/entities.js)')
    .option('--dry-run', 'list the records it would change, and those it could not migrate, and change nothing')
    .option('--batch-size <n>', 'records per transaction', integerAtLeast(1), 1000)
    .option('--actor <id>', 'actor recorded on the events and audit entries')
    .option('--force', 'run even though a writer is listed as running')
    .action(async (options: MigrateOptions, command: Command) => {
      const { path } = command.optsWithGlobals<{ path: string }>();
      const declared = await loadEntityDefinitions(options.entities);
      if (options.dryRun) await dryRun(path, declared);
      else await migrate(path, declared, options);
    });
}

/**
 * Read-only, beside a running app: the store's own definitions open it, and the declared
 * ones only say what the steps make of each record. Fails (exit 1) when a record could not
 * be migrated, as the migration itself would.
 */
async function dryRun(path: string, declared: readonly EntityDefinition[]): Promise<void> {
  // The run opens the store with these classes, which fails on what the registry refuses:
  // a reference to a class the file does not export, a name or route path used twice.
  const registry = new EntityRegistry();
  for (const definition of declared) registry.add(definition);
  registry.checkReferences();
  await withStore(path, {}, async (session) => {
    const stored = declared.filter((definition) => session.definitions.some(({ name }) => name === definition.name));
    // A newer store fails the command (exit 1) with the exception's message, as any failure does.
    session.storage.migrations.checkNotNewer(stored);
    const summary: string[] = [];
    let failed = 0;
    for (const { definition, from, to } of session.storage.migrations.pending(stored)) {
      let changed = 0;
      for (const outcome of session.storage.migrations.dryRun(definition)) {
        if ('problems' in outcome) {
          failed++;
          await writeLine(`${outcome.entity} ${outcome.id}${outcome.deleted ? ' (deleted)' : ''}: cannot be migrated: ${outcome.problems.join('; ')}`);
        } else {
          changed++;
          await writeLine(describe(outcome));
        }
      }
      summary.push(`${definition.name} ${from} → ${to}: would change ${changed} records`);
    }
    tell(summary.length === 0 ? 'no migration to run' : summary.join('; '));
    if (failed > 0)
      throw new CliFailure(`${failed} records could not be migrated (listed above); the migration would stop at the first of them`, EXIT_CODES.failed);
  });
}

/**
 * Opens the store as the app with these classes would: indexes built (a unique one over
 * duplicate values fails here, before any step runs), the steps run with this command's
 * batch size and actor, and the catalog recorded, so the other commands see the new classes.
 */
async function migrate(path: string, declared: EntityDefinition[], options: MigrateOptions): Promise<void> {
  const changed = new Map<string, number>();
  const migration = {
    batchSize: options.batchSize,
    context: options.actor === undefined ? {} : { actor: options.actor },
    onRecord: (record: MigratedRecord) => {
      changed.set(record.entity, (changed.get(record.entity) ?? 0) + 1);
      // A reader gone early (`| head`) stops the listing, not the migration.
      return writeLine(describe(record)).then(() => undefined);
    },
  };
  const access = { writerRole: 'cli migrate', force: options.force, changesState: true, definitions: declared, asApp: { migration } };
  try {
    await withStore(path, access, async () => undefined);
  } catch (error) {
    if (error instanceof MigrationFailedException) {
      throw new CliFailure(`${error.message}; the batches before it are stored, and the next run goes on from that record`, EXIT_CODES.failed);
    }
    throw error;
  }
  // Each entity migrated has said so in the log already.
  if (changed.size === 0) tell('no record needed a change');
}

/** `<entity> <id>: set a, b; cleared c; renamed d → e`. */
function describe({ entity, id, deleted, change }: MigratedRecord): string {
  return `${entity} ${id}${deleted ? ' (deleted)' : ''}: ${describeChange(change)}`;
}

function describeChange({ data, renamed }: RecordMigration): string {
  const moved = new Set(Object.values(renamed ?? {}));
  const gone = new Set(Object.keys(renamed ?? {}));
  const names = Object.keys(data).sort();
  const set = names.filter((name) => data[name] !== null && !moved.has(name));
  const cleared = names.filter((name) => data[name] === null && !gone.has(name));
  return [
    ...(set.length > 0 ? [`set ${set.join(', ')}`] : []),
    ...(cleared.length > 0 ? [`cleared ${cleared.join(', ')}`] : []),
    ...Object.entries(renamed ?? {}).map(([from, to]) => `renamed ${from} → ${to}`),
  ].join('; ');
}
