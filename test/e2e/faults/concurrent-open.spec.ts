import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { compileChildScript, runChildScript } from './child-script.util.js';
import { startCli } from './cli-run.util.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), 'notes-app.child.ts');
/** Enough opens and commits that a lost write would show: before the fix one was lost about every few dozen opens. */
const OPENS = 300;
const WRITES = 1000;
const LMDB_MAIN = createRequire(import.meta.url).resolve('lmdb');

/**
 * Opens the store read-only and closes it again, over and over, until the stop file exists:
 * the opens of `verify`, `stat` or a backup, without the rest. Prints the count every 50 opens.
 */
const OPENER = `const { existsSync } = require('node:fs');
const { open } = require(process.argv[1]);
(async () => {
  for (let opens = 1; !existsSync(process.argv[3]); opens++) {
    const root = open({ path: process.argv[2], readOnly: true });
    await root.close();
    if (opens % 50 === 0) console.log(opens);
  }
})();`;

// LMDB 3.5 lets a process that opens the store during another's commit set the shared record
// of the last commit back; the next write then started from before that commit and replaced
// it. Acknowledged writes vanished while a backup, `verify` or `stat` opened the store.
describe('other processes opening the store while the app writes', () => {
  it('lose no acknowledged write', async () => {
    const dir = makeTempDir('nde-concurrent-open-');
    try {
      const dataPath = join(dir.path, 'data');
      const app = compileChildScript(APP, dir.path);
      // The first start creates the store; openers need one to open.
      expect(await runChildScript(app, ['start', dataPath]).ended).toBe(0);

      const writerStop = join(dir.path, 'stop-writer');
      const openerStop = join(dir.path, 'stop-opener');
      const writer = runChildScript(app, ['write', dataPath, writerStop]);
      // Others open while the app holds the store, as in production, and are done before it
      // closes: with no process holding the store, LMDB itself can fail an open that races
      // another's close (README, "Several processes").
      await writer.printed(/"ready":true/);
      const acknowledged = (): string[] => writer.reports.filter((report) => 'id' in report).map((report: { id: string }) => report.id);
      const opener = spawn(process.execPath, ['-e', OPENER, LMDB_MAIN, dataPath, openerStop], { stdio: ['ignore', 'pipe', 'inherit'] });
      let opens = 0;
      opener.stdout.on('data', (chunk: Buffer) => (opens = Math.max(opens, ...chunk.toString().trim().split('\n').map(Number))));
      const openerEnded = new Promise<number | null>((resolve) => opener.once('exit', resolve));
      const cliRuns = [];
      for (let run = 0; run < 4; run++) cliRuns.push(await startCli([run % 2 === 0 ? 'stat' : 'verify', '--path', dataPath]).ended);
      // Counted, not timed: as long as it takes this machine to make that many of each.
      while ((opens < OPENS || acknowledged().length < WRITES) && writer.child.exitCode === null && opener.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      writeFileSync(openerStop, '');
      const openerCode = await openerEnded;
      writeFileSync(writerStop, '');

      expect({ writer: await writer.ended, opener: openerCode }).toEqual({ writer: 0, opener: 0 });
      expect(cliRuns.filter((run) => run.ended !== 0)).toEqual([]);
      expect({ acknowledged: acknowledged().length >= WRITES, opens: opens >= OPENS }).toEqual({ acknowledged: true, opens: true });

      const idsFile = join(dir.path, 'acknowledged.json');
      writeFileSync(idsFile, JSON.stringify(acknowledged()));
      const check = runChildScript(app, ['find', dataPath, idsFile]);
      expect(await check.ended).toBe(0);
      expect(check.reports).toEqual([{ missing: [] }]);
    } finally {
      dir.remove();
    }
  }, 300_000);
});
