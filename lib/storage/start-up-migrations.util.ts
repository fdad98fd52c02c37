import type { Logger } from '@nestjs/common';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import { MigrationsPendingException } from './schema-migration.exception.js';
import type { MigrationRunOptions, SchemaMigrator } from './schema-migrator.service.js';

/**
 * With `migrate: 'manual'`, refuses a store with records waiting for migration steps; an
 * entity that holds no record has nothing to wait for and is brought to its version at start.
 */
export function refusePendingMigrations(
  migrator: SchemaMigrator,
  definitions: readonly EntityDefinition[],
  tablesOf: (definition: EntityDefinition) => EntityTables,
): void {
  const waiting = migrator.pending(definitions).filter(({ definition }) => holdsRecords(tablesOf(definition)));
  if (waiting.length > 0) throw new MigrationsPendingException(waiting.map(({ definition, from, to }) => ({ entity: definition.name, from, to })));
}

/**
 * Runs every pending migration, saying in the log what it runs and what it changed; an entity
 * without records (a new store) is brought to its version without a word.
 */
export async function runPendingMigrations(
  migrator: SchemaMigrator,
  definitions: readonly EntityDefinition[],
  tablesOf: (definition: EntityDefinition) => EntityTables,
  logger: Logger,
  options?: MigrationRunOptions,
): Promise<void> {
  for (const { definition, from, to } of migrator.pending(definitions)) {
    if (!holdsRecords(tablesOf(definition))) {
      await migrator.migrate(definition);
      continue;
    }
    const steps = definition.migrations.filter(({ version }) => version > from && version <= to);
    const said = steps.map(({ version, description }) => (description ? `${version} (${description})` : `${version}`)).join(', ');
    logger.log(`migrating the records of ${definition.name} from version ${from} to ${to}: steps ${said}`);
    const changed = await migrator.migrate(definition, options);
    logger.log(`${definition.name} is at version ${to}: ${changed} records changed`);
  }
}

function holdsRecords({ records, deleted }: EntityTables): boolean {
  return records.getCount() + (deleted?.getCount() ?? 0) > 0;
}
