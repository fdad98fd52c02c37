import type { Command } from 'commander';
import { tell, withProgress, writeLine } from './cli-output.util.js';
import { EXIT_CODES } from './exit-code.constants.js';
import { withStore, type StoreSession } from './store-session.util.js';
import { RECORD_LISTING_DB } from '../storage/record-listing.util.js';

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('check records, indexes, unique constraints, history, the log and the audit trail; exit 1 when anything is inconsistent')
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
          const { records, indexEntries, historyEntries, events, auditEntries, grants } = report.checked;
          tell(
            `${report.ok ? 'ok' : `${report.problems.length} problem(s)`}: checked ${records} records, ${indexEntries} index entries, ` +
              `${historyEntries} history entries, ${events} events, ${auditEntries} audit entries, ${grants} grants`,
          );
        }
        if (!report.ok) process.exitCode = EXIT_CODES.failed;
      });
    });
}

/**
 * What verify walks, as LMDB counts it: every entity's records (deleted ones too), index entries
 * and record listing (where its history is), the log, and the audit trail with every listing
 * of it (the record listing again).
 */
function entriesToCheck(session: StoreSession): number {
  const { databases } = session.environment.stat();
  const names = session.definitions.flatMap((definition) => [
    `${definition.name}.records`,
    `${definition.name}.deleted`,
    ...definition.indexes.map((index) => `${definition.name}.index.${index.name}`),
  ]);
  const history = session.definitions.reduce((sum, definition) => sum + session.storage.tablesOf(definition).history.keysToWalk(), 0);
  return [...names, '_log', '_audit', RECORD_LISTING_DB, '_audit.byRecord', '_audit.byActor', '_acl.grants', '_acl.bySubject'].reduce(
    (sum, name) => sum + (databases[name]?.entries ?? 0),
    history,
  );
}
