import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { CLI_MAIN } from './cli-process.util.js';
import { seedSampleStore } from './cli-store.util.js';

/** Runs the command line with stdout on /dev/full, where every write fails with ENOSPC (a full disk). */
function runToFullDisk(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const full = openSync('/dev/full', 'w');
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: ['ignore', full, 'pipe'] });
  closeSync(full);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr })));
}

describe('a command whose stdout cannot be written (disk full)', () => {
  const dir = makeTempDir('enospc-');
  const path = join(dir.path, 'data');
  beforeAll(() => seedSampleStore(path));
  afterAll(() => dir.remove());

  it.each([['export'], ['stat'], ['events']])('%s fails with exit 1 and a one-line message, not a stack trace', async (command) => {
    const result = await runToFullDisk([command, '--path', path]);
    expect(result.code).toBe(1);
    // API.md: "otherwise non-zero and a one-line message on stderr naming the problem (no stack trace)".
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).toMatch(/^error: .*ENOSPC.*\n$/);
  });
});
