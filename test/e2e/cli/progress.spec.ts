import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeWhen } from '../../support/requirement.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { assertCliBuilt, CLI_MAIN, ndjson } from './cli-process.util.js';
import { seedSampleStore } from './cli-store.util.js';

/** util-linux `script` runs a command on a pseudo-terminal: the only way to give the command line a TTY stderr. */
const SCRIPT = '/usr/bin/script';
const describeIfTerminal = describeWhen(existsSync(SCRIPT) ? undefined : `${SCRIPT} (util-linux) is not installed`, 'the progress bar suite');

/** Runs a shell command line under a pseudo-terminal; resolves with what the terminal showed. */
async function onTerminal(command: string): Promise<string> {
  const { stdout } = await promisify(execFile)(SCRIPT, ['-qefc', command, '/dev/null'], { timeout: 60_000 });
  return stdout;
}

describeIfTerminal('cli progress bars', () => {
  const dir = makeTempDir('nde-cli-progress-');
  const source = join(dir.path, 'source');
  afterAll(() => dir.remove());

  it('draw on a terminal stderr while stdout, redirected, carries only the data', async () => {
    assertCliBuilt();
    const seeded = await seedSampleStore(source, { permits: 120, inspections: 30 });
    const records = seeded.permits + seeded.inspections;
    const file = join(dir.path, 'all.ndjson');
    const exportScreen = await onTerminal(`'${process.execPath}' '${CLI_MAIN}' export --path '${source}' > '${file}'`);
    expect(exportScreen).toContain(`100% | ${records}/${records} records`);
    const lines = ndjson(readFileSync(file, 'utf8'));
    expect(lines).toHaveLength(1 + records);

    const size = readFileSync(file).length;
    const importScreen = await onTerminal(`'${process.execPath}' '${CLI_MAIN}' import --create --path '${join(dir.path, 'copy')}' '${file}'`);
    expect(importScreen).toContain(`100% | ${size}/${size} bytes`);
    expect(importScreen).toContain(`imported ${records} records`);
  }, 60_000);

  it('draw for verify, rebuild-indexes and drop-fields on a terminal, counting what they walk or write, and stay off a pipe', async () => {
    assertCliBuilt();
    const store = join(dir.path, 'walked');
    const seeded = await seedSampleStore(store, { permits: 120, inspections: 30 });
    const cli = `'${process.execPath}' '${CLI_MAIN}'`;

    const verifyScreen = await onTerminal(`${cli} verify --path '${store}'`);
    const [, records] = /ok: checked (\d+) records, \d+ index entries, \d+ history entries, \d+ events, \d+ audit entries/.exec(verifyScreen)!.map(Number);
    expect(records).toBe(seeded.permits + seeded.inspections);
    // The bar's total is counted from LMDB's statistics before the walk; the walk must end on it.
    const [, walked, total] = /100% \| (\d+)\/(\d+) entries/.exec(verifyScreen)!.map(Number);
    expect(walked).toBe(total);
    expect(walked).toBeGreaterThan(records!);

    // The sample's permits have 3 indexes, its inspections 2.
    const written = seeded.permits * 3 + seeded.inspections * 2;
    const rebuildScreen = await onTerminal(`${cli} rebuild-indexes --path '${store}'`);
    expect(rebuildScreen).toContain(`100% | ${written}/${written} index entries`);
    expect(rebuildScreen).toContain('permits: rebuilt number, estimatedCost, client_county_status');

    const dropScreen = await onTerminal(`${cli} drop-fields --dry-run --path '${store}'`);
    expect(dropScreen).toContain(`100% | ${records}/${records} records`);

    for (const command of ['verify', 'rebuild-indexes', 'drop-fields']) {
      const { stderr } = await promisify(execFile)(process.execPath, [CLI_MAIN, command, '--path', store]);
      expect(stderr).not.toContain('%');
    }
  }, 60_000);
});
