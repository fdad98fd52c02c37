import type { Command } from 'commander';
import { tell, withProgress, writeLine } from './cli-output.util.js';
import { EXIT_CODES } from './exit-code.constants.js';
import { withStore, type StoreSession } from './store-session.util.js';

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('check records, indexes, unique constraints, history and the log; exit 1 when anything is inconsistent')
    .option('--json', 'print the report as one JSON object')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { path } = command.optsWithGlobals<{ path: string }>();
      await withStore(path, {}, async (session) => {
        const report = await withProgress(
          () => entriesToCheck(session),
          'entries',
          (progress) => session.storage.verify((checked) => progress.increment(checked)),
        );
        if (options.json) await writeLine(JSON.stringify(report, null, 2));
        else {
          for (const problem of report.problems) await writeLine(problem);
          const { records, indexEntries, historyEntries, events } = report.checked;
          tell(
            `${report.ok ? 'ok' : `${report.problems.length} problem(s)`}: checked ${records} records, ${indexEntries} index entries, ` +
              `${historyEntries} history entries, ${events} events`,
          );
        }
        if (!report.ok) process.exitCode = EXIT_CODES.failed;
      });
    });
}

/** What verify walks: every entity's records, index entries and history, and the log, as LMDB counts them. */
function entriesToCheck(session: StoreSession): number {
  const { databases } = session.environment.stat();
  const names = session.definitions.flatMap((definition) => [
    `${definition.name}.records`,
    `${definition.name}.history`,
    ...definition.indexes.map((index) => `${definition.name}.index.${index.name}`),
  ]);
  return [...names, '_log'].reduce((sum, name) => sum + (databases[name]?.entries ?? 0), 0);
}
