import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { EventRetention } from '../common/storage-options.interface.js';
import { duration, integerAtLeast } from './cli-arguments.util.js';
import { tell } from './cli-output.util.js';
import { checkCopyTarget, withStore } from './store-session.util.js';

interface CompactOptions {
  maxEvents?: number;
  maxAge?: number;
  copy?: string;
  force?: boolean;
}

export function registerCompactCommand(program: Command): void {
  program
    .command('compact')
    .description(
      "apply the event retention (the app's eventRetention, or the one given) and purge expired idempotency keys; " +
        '--copy also writes a compacted copy of the store',
    )
    .option('--max-events <n>', 'keep at most the n newest events', integerAtLeast(1))
    .option('--max-age <duration>', 'drop events older than this: 90000 (ms), 45s, 15m, 12h, 30d', duration)
    .option('--copy <dir>', 'afterwards, write a compacted LMDB copy (no free pages) into <dir>; swap it in while the app is stopped')
    .option('--force', 'run even though a writer is listed as running')
    .action(async (options: CompactOptions, command: Command) => {
      const { path } = command.optsWithGlobals<{ path: string }>();
      const copy = options.copy === undefined ? undefined : resolve(options.copy);
      // Checked before anything is dropped.
      if (copy !== undefined) checkCopyTarget(copy, 'copy');
      await withStore(path, { writerRole: 'cli compact', force: options.force, changesState: true }, async ({ storage, environment, catalog }) => {
        const given: EventRetention = {
          ...(options.maxEvents !== undefined && { maxEvents: options.maxEvents }),
          ...(options.maxAge !== undefined && { maxAgeMs: options.maxAge }),
        };
        const retention = Object.keys(given).length > 0 ? given : catalog?.options.eventRetention;
        const result = await storage.runMaintenance(Date.now(), retention);
        const log = storage.log;
        tell(
          `dropped ${result.events} events (${retention ? `retention ${JSON.stringify(retention)}` : 'no retention: the app keeps every event'}), ` +
            `the log now holds seq ${log.firstSeq()}..${log.lastSeq()}; purged ${result.idempotencyKeys} expired idempotency keys`,
        );
        if (copy !== undefined) {
          await environment.backup(copy, true);
          tell(`wrote a compacted copy to ${copy}`);
        }
      });
    });
}
