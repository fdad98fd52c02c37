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

/** Ends every usage error. */
export const USAGE_HINT = '(run with --help for usage)';

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
    .configureOutput({
      // A usage error is one line on stderr, commander's hints ("Did you mean stat?") included;
      // the help commander writes when no command is given is replaced by one in main.
      outputError: (message) => process.stderr.write(`${oneLine(message)} ${USAGE_HINT}\n`),
      writeErr: () => undefined,
    })
    .addHelpText(
      'after',
      '\nExit codes: 0 done; 1 failed, or verify found problems; 2 usage error; 3 no store at --path;\n' +
        '4 another process writes to the store (mutating commands; --force overrides); 5 the store has no catalog yet (start the app once);\n' +
        '6 the store is replicated (commands that change it are refused).',
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

function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(' ');
}
