import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { CLI_MAIN, exportStore } from './cli-process.util.js';
import { seedSampleStore } from './cli-store.util.js';

describe('import from a file argument that is a pipe', () => {
  const dir = makeTempDir('import-pipes-');
  const source = join(dir.path, 'source');
  const exported = join(dir.path, 'all.ndjson');
  beforeAll(async () => {
    await seedSampleStore(source, { permits: 5, inspections: 3 });
    await exportStore(source, exported);
  }, 60_000);
  afterAll(() => dir.remove());

  it('reads a FIFO such as bash process substitution (import <(gunzip -c export.ndjson.gz))', async () => {
    const copy = join(dir.path, 'copy');
    const run = await promisify(execFile)('/bin/bash', [
      '-c',
      `'${process.execPath}' '${CLI_MAIN}' import --create --path '${copy}' <(cat '${exported}'); echo "rc=$?"`,
    ]);
    expect(run.stderr).not.toContain('not a readable file');
    expect(run.stdout).toBe('rc=0\n');
    expect(run.stderr).toBe('imported 7 records (0 already stored) in 1 batch(es)\n');
  });

  it('reads /dev/stdin given as the file', async () => {
    const copy = join(dir.path, 'copy2');
    const run = await promisify(execFile)('/bin/bash', [
      '-c',
      `'${process.execPath}' '${CLI_MAIN}' import --create --path '${copy}' /dev/stdin < '${exported}'; echo "rc=$?"`,
    ]);
    expect(run.stdout).toBe('rc=0\n');
    expect(run.stderr).toBe('imported 7 records (0 already stored) in 1 batch(es)\n');
  });
});
