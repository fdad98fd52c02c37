import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, permitBody, startSample, stopSample, type SampleProcess } from '../../support/sample-process.util.js';
import { withSampleStore } from '../../support/sample-store.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { runCli } from './cli-process.util.js';
import { definitionNamed, seedSampleStore } from './cli-store.util.js';

const WRITERS = 4;

describe('cli backup', () => {
  const dir = makeTempDir('nde-cli-backup-');
  const dataPath = join(dir.path, 'data');
  let app: SampleProcess | undefined;

  afterAll(async () => {
    await stopSample(app);
    dir.remove();
  });

  it('copies the store while the app is writing into a store that opens and verifies, holding a moment of it', async () => {
    const seeded = await seedSampleStore(dataPath);
    app = await startSample('cli-backup', dataPath, 'express');
    let acknowledged = 0;
    let running = true;
    let serial = 0;
    const writers = Array.from({ length: WRITERS }, async () => {
      while (running) {
        const response = await call(app!, 'POST', '/permits', { body: permitBody(`BK-${serial++}`) });
        if (response.status !== 201) throw new Error(`a write failed during the backup: ${response.status} ${JSON.stringify(response.body)}`);
        acknowledged++;
      }
    });
    while (acknowledged < 20) await new Promise((resolve) => setTimeout(resolve, 20));
    const before = acknowledged;
    const copies = [join(dir.path, 'copy'), join(dir.path, 'compacted')];
    const plain = await runCli(['backup', copies[0]!, '--path', dataPath]);
    const compacted = await runCli(['backup', copies[1]!, '--compact', '--path', dataPath]);
    const after = acknowledged;
    running = false;
    await Promise.all(writers);
    // Opening beside a committing app may meet LMDB's ITS#9496, which the open notices and repairs, saying so.
    const lines = plain.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(`backed up ${dataPath} to ${copies[0]}`);
    for (const line of lines.slice(0, -1)) {
      expect(line).toBe(`warning: opening ${dataPath} set LMDB's last transaction back (another process committed meanwhile): setting it right`);
    }
    expect(plain.code).toBe(0);
    expect(compacted.code).toBe(0);
    // Writes went on during the copies; each copy holds every write acknowledged before it began, at most those acknowledged by its end.
    expect(after).toBeGreaterThan(before);

    for (const copy of copies) {
      expect((await runCli(['verify', '--path', copy])).code).toBe(0);
      // The copy lists the app as a writer of the original directory, which does not make it a writer of the copy.
      expect((await runCli(['rebuild-indexes', '--path', copy])).code).toBe(0);
      const permits = await withSampleStore(copy, (storage) => {
        expect(storage.verify()).toMatchObject({ ok: true, problems: [] });
        return storage.tablesOf(definitionNamed(storage, 'permits')).records.getCount();
      });
      expect(permits).toBeGreaterThanOrEqual(seeded.permits + before);
      expect(permits).toBeLessThanOrEqual(seeded.permits + after);
    }
  }, 120_000);

  it('needs a directory named, rather than copying into the working one', async () => {
    const result = await runCli(['backup', '', '--path', dataPath]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: backup needs a directory to copy into: backup <dir>');
  }, 60_000);

  it('will not copy into a directory that already holds a store, its own included', async () => {
    const result = await runCli(['backup', join(dir.path, 'copy'), '--path', dataPath]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('already holds a store; back up into a new directory');
    // README (Exit codes): 1 for a target that already holds a store, as compact --copy answers it.
    const itself = await runCli(['backup', dataPath, '--path', dataPath]);
    expect([itself.code, itself.stderr.trim()]).toEqual([1, 'error: the backup directory is the store itself']);
  }, 60_000);

  it('will not copy onto a file, nor compact into one (before dropping anything), nor import --create into one', async () => {
    const file = join(dir.path, 'a-file');
    writeFileSync(file, 'x');
    const backup = await runCli(['backup', file, '--path', dataPath]);
    expect([backup.code, backup.stderr.trim()]).toEqual([1, `error: ${file} is not a directory; back up into a new directory`]);
    const before = await runCli(['events', '--path', dataPath]);
    const compact = await runCli(['compact', '--max-events', '1', '--copy', file, '--path', dataPath]);
    expect([compact.code, compact.stderr.trim()]).toEqual([1, `error: ${file} is not a directory; copy into a new directory`]);
    expect((await runCli(['events', '--path', dataPath])).stdout).toBe(before.stdout);
    const imported = await runCli(['import', '--create', '--path', file], (await runCli(['export', '--path', dataPath])).stdout);
    expect([imported.code, imported.stderr.trim()]).toEqual([3, `error: no store at ${file}: it is not a directory (check --path)`]);
  }, 60_000);
});
