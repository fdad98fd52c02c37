import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { compileChildScript, runChildScript } from './child-script.util.js';
import { startCli } from './cli-run.util.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), 'concurrent-open-app.child.ts');
const WRITE_MS = 6_000;
const LMDB_MAIN = createRequire(import.meta.url).resolve('lmdb');

/** Opens the store read-only and closes it again, over and over, until `ms` have passed: the opens of `verify`, `stat` or a backup, without the rest. */
const OPENER = `const { open } = require(process.argv[1]);
const until = Date.now() + Number(process.argv[3]);
(async () => {
  let opens = 0;
  while (Date.now() < until) {
    const root = open({ path: process.argv[2], readOnly: true });
    await root.close();
    opens++;
  }
  console.log(opens);
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
      expect(await runChildScript(app, ['write', dataPath, '0']).ended).toBe(0);

      const writer = runChildScript(app, ['write', dataPath, String(WRITE_MS)]);
      const opener = spawn(process.execPath, ['-e', OPENER, LMDB_MAIN, dataPath, String(WRITE_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let opens = '';
      opener.stdout.on('data', (chunk: Buffer) => (opens += chunk.toString()));
      const openerEnded = new Promise<number | null>((resolve) => opener.once('exit', resolve));
      const cliRuns = [];
      for (let run = 0; run < 4; run++) cliRuns.push(await startCli([run % 2 === 0 ? 'stat' : 'verify', '--path', dataPath]).ended);

      expect({ writer: await writer.ended, opener: await openerEnded }).toEqual({ writer: 0, opener: 0 });
      expect(cliRuns.map((run) => run.ended)).toEqual([0, 0, 0, 0]);
      const acknowledged: string[] = writer.reports.map((report: { id: string }) => report.id);
      // Enough opens and commits that a lost write would show: the race lost one about every few dozen opens.
      expect({ acknowledged: acknowledged.length > 1000, opens: Number(opens) > 200 }).toEqual({ acknowledged: true, opens: true });

      const idsFile = join(dir.path, 'acknowledged.json');
      writeFileSync(idsFile, JSON.stringify(acknowledged));
      const check = runChildScript(app, ['find', dataPath, idsFile]);
      expect(await check.ended).toBe(0);
      expect(check.reports).toEqual([{ missing: [] }]);
    } finally {
      dir.remove();
    }
  }, 120_000);
});
