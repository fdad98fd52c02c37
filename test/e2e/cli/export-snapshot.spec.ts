import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withSampleStore } from '../../support/sample-store.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { CLI_MAIN, runCli } from './cli-process.util.js';
import { definitionNamed, seedSampleStore } from './cli-store.util.js';

describe('export while the app writes', () => {
  const dir = makeTempDir('export-snapshot-');
  afterAll(() => dir.remove());

  it('writes an export that imports into a store that verifies, whatever the app commits meanwhile', async () => {
    const source = join(dir.path, 'source');
    await seedSampleStore(source, { permits: 40, inspections: 3000 });

    // An export whose reader is slow: it is part way through the inspections (exported first) when the app deletes a permit.
    const child = spawn(process.execPath, [CLI_MAIN, 'export', '--path', source], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('{"entity":"inspections"')) {
          child.stdout.pause();
          child.stdout.off('data', onData);
          resolve();
        }
      };
      child.stdout.on('data', onData);
    });
    // Give the export time to fill the pipe and wait in the middle of the inspections.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const firstInspection = JSON.parse(stdout.split('\n').find((line) => line.startsWith('{"entity":"inspections"'))!);
    const permitId = firstInspection.record.permitId as string;
    await withSampleStore(source, async (storage) => {
      // Deleting a permit deletes its inspections (onDelete: 'cascade'), in one transaction: the store stays whole.
      await storage.write((tx) => tx.delete(definitionNamed(storage, 'permits'), permitId, { actor: 'admin' }));
      expect(storage.verify().ok).toBe(true);
    });
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stdout.resume();
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/^exported \d+ records/);

    const file = join(dir.path, 'export.ndjson');
    writeFileSync(file, stdout);
    const copy = join(dir.path, 'copy');
    const imported = await runCli(['import', '--create', '--path', copy], { file });
    expect(imported.stderr).not.toContain('refer to records the store does not hold');
    expect(imported.code).toBe(0);
    expect((await runCli(['verify', '--path', copy])).code).toBe(0);
  }, 120_000);
});
