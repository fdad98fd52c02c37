import type { Command } from 'commander';
import { tell, writeLine } from './cli-output.util.js';
import { EXIT_CODES } from './exit-code.constants.js';
import { withStore } from './store-session.util.js';

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('check records, indexes, unique constraints, history and the log; exit 1 when anything is inconsistent')
    .option('--json', 'print the report as one JSON object')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { path } = command.optsWithGlobals<{ path: string }>();
      await withStore(path, {}, async ({ storage }) => {
        const report = storage.verify();
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
