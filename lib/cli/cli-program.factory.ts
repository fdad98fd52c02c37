import { createRequire } from 'node:module';
import { Command } from 'commander';
import { registerBackupCommand } from './backup.command.js';
import { registerCompactCommand } from './compact.command.js';
import { registerDropFieldsCommand } from './drop-fields.command.js';
import { registerEventsCommand } from './events.command.js';
import { registerExportCommand } from './export.command.js';
import { registerImportCommand } from './import.command.js';
import { registerMigrateCommand } from './migrate.command.js';
import { registerRebuildIndexesCommand } from './rebuild-indexes.command.js';
import { registerStatCommand } from './stat.command.js';
import { registerVerifyCommand } from './verify.command.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/**
 * The command line: every command works on the store at `--path` alone, from the catalog
 * the app records in it. Commander's own exits are turned into exceptions, so the caller
 * maps every outcome to one of the documented exit codes.
 */
export function createCliProgram(): Command {
  const program = new Command('nestjs-declarative-entities')
    .description('Inspect, check, back up and maintain the LMDB store of nestjs-declarative-entities')
    .version(version)
    .option('--path <dir>', 'the data directory (EntitiesModule.forRoot({ path }))', './data')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 done; 1 failed, or verify found problems; 2 usage error; 3 no store at --path;\n' +
        '4 another process writes to the store (mutating commands; --force overrides); 5 the store has no catalog yet (start the app once).',
    )
    .exitOverride();
  for (const register of [
    registerStatCommand,
    registerVerifyCommand,
    registerRebuildIndexesCommand,
    registerExportCommand,
    registerImportCommand,
    registerBackupCommand,
    registerEventsCommand,
    registerCompactCommand,
    registerDropFieldsCommand,
    registerMigrateCommand,
  ]) {
    register(program);
  }
  return program;
}
