import { resolve } from 'node:path';
import type { Command } from 'commander';
import { LmdbEnvironment } from '../storage/lmdb-environment.store.js';
import { CliFailure } from './cli-failure.exception.js';
import { tell } from './cli-output.util.js';
import { EXIT_CODES } from './exit-code.constants.js';
import { checkCopyTarget, storePath } from './store-session.util.js';

export function registerBackupCommand(program: Command): void {
  program
    .command('backup')
    .description('copy the store into <dir> from one LMDB snapshot (consistent while the app runs); open the copy with --path <dir>')
    .argument('<dir>', 'directory for the copy; created if missing, must not hold a store yet')
    .option('--compact', 'leave out free pages while copying: a smaller file, a slower copy')
    .action(async (dir: string, options: { compact?: boolean }, command: Command) => {
      const { path } = command.optsWithGlobals<{ path: string }>();
      // resolve('') is the working directory, which would quietly receive the copy.
      if (dir.trim() === '') throw new CliFailure('backup needs a directory to copy into: backup <dir>', EXIT_CODES.usage);
      const source = storePath(path);
      const target = resolve(dir);
      if (target === source) throw new CliFailure('the backup directory is the store itself', EXIT_CODES.failed);
      checkCopyTarget(target, 'back up');
      // The copy needs no entity definitions: a store without a catalog can be backed up too.
      const environment = new LmdbEnvironment(source, {}, true);
      environment.open(1);
      try {
        await environment.caughtUp();
        await environment.backup(target, options.compact ?? false);
      } finally {
        await environment.close();
      }
      tell(`backed up ${source} to ${target}${options.compact ? ' (compacted)' : ''}`);
    });
}
