import 'reflect-metadata';
import { join } from 'node:path';
import { Entity, Field, Index } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { asApp } from './app-store.util.js';
import { finished, runCli, startCli } from './cli-process.util.js';
import { seedSampleStore, withRawDatabase } from './cli-store.util.js';

@Entity('parcels')
class ParcelV1 {
  @Field() @Index({ unique: true }) code!: string;
  @Field({ required: false }) legacyRef?: string;
}

@Entity('parcels')
class ParcelV2 {
  @Field() @Index({ unique: true }) code!: string;
}

/** Runs the command line with a reader that has already gone away (`cmd | head -0`, `| true`). */
function runWithClosedStdout(args: string[]) {
  const child = startCli(args);
  child.stdin!.end();
  child.stdout!.destroy();
  return finished(child);
}

describe('commands whose stdout reader goes away early', () => {
  let dir: ReturnType<typeof makeTempDir>;
  beforeEach(() => (dir = makeTempDir('closed-stdout-')));
  afterEach(() => dir.remove());

  it('verify does not report a damaged store as consistent (exit 0) when its reader stops early (verify | head -1)', async () => {
    const path = join(dir.path, 'data');
    await seedSampleStore(path);
    await withRawDatabase(path, 'permits.index.number', (db) => db.clearSync());
    // With a reader, the store is reported as damaged.
    expect((await runCli(['verify', '--path', path])).code).toBe(1);

    const closed = await runWithClosedStdout(['verify', '--path', path]);
    // API.md: "verify: exit 0 only when clean". README: exit 0 means "verify: the store is consistent".
    expect(closed.code).toBe(1);
  });

  it('drop-fields does not stop after its first batch with exit 0 when its reader stops early (drop-fields | head -1)', async () => {
    const path = join(dir.path, 'data');
    await asApp(path, ParcelV1, async (storage) => {
      const definition = storage.definitionOf(ParcelV1);
      await storage.write((tx) => {
        for (let i = 0; i < 20; i++) tx.create(definition, { code: `P-${i}`, legacyRef: `L-${i}` });
      });
    });
    await asApp(path, ParcelV2, async () => undefined);

    const closed = await runWithClosedStdout(['drop-fields', '--batch-size', '2', '--path', path]);
    const left = await runCli(['drop-fields', '--dry-run', '--path', path]);
    const remaining = left.stdout.split('\n').filter((line) => line !== '').length;
    // The command does what it was asked, its listing dropped.
    expect(closed.code).toBe(0);
    expect(remaining).toBe(0);
  });

  it.each([[['export']], [['events']], [['events', '--follow', '--interval', '10']]])('%j ends quietly with exit 0 (export | head -1)', async (args) => {
    const path = join(dir.path, 'data');
    await seedSampleStore(path);
    const closed = await runWithClosedStdout([...args, '--path', path]);
    expect(closed.stderr).not.toMatch(/error|\s+at /);
    expect(closed.code).toBe(0);
  });

  it('export ends quietly with exit 0 when its reader goes away part way (a full pipe waiting to drain)', async () => {
    const path = join(dir.path, 'data');
    await seedSampleStore(path, { permits: 3000, inspections: 3000 });
    const child = startCli(['export', '--path', path]);
    child.stdin!.end();
    // The first lines read, then the reader stops reading, and later goes away while the export waits for the pipe to drain.
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.stdout!.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.stdout!.destroy();
    const result = await finished(child);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  }, 60_000);
});
