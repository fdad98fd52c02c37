import 'reflect-metadata';
import { join } from 'node:path';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { runCli } from './cli-process.util.js';
import { seedSampleStore, withRawDatabase } from './cli-store.util.js';

describe('cli verify and rebuild-indexes', () => {
  const dir = makeTempDir('nde-cli-verify-');
  const dataPath = join(dir.path, 'data');

  beforeAll(() => seedSampleStore(dataPath));
  afterAll(() => dir.remove());

  it('finds an index damaged behind the package, and rebuild-indexes repairs it', async () => {
    const clean = await runCli(['verify', '--path', dataPath]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toBe('');
    expect(clean.stderr).toMatch(/^ok: checked \d+ records/);

    const removed = await withRawDatabase(dataPath, 'permits.index.number', (db) => {
      const [first] = db.getKeys({ start: Buffer.from([0]), limit: 1 });
      db.removeSync(first);
      db.putSync(['BP-GHOST', '01ZZZZZZZZZZZZZZZZZZZZZZZZ'], null);
      return first as unknown[];
    });
    const damaged = await runCli(['verify', '--json', '--path', dataPath]);
    expect(damaged.code).toBe(1);
    const report = JSON.parse(damaged.stdout);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(
      expect.arrayContaining([
        `permits ${String(removed.at(-1))}: missing from index number`,
        'permits index number: entry for missing record 01ZZZZZZZZZZZZZZZZZZZZZZZZ',
      ]),
    );
    const listed = await runCli(['verify', '--path', dataPath]);
    expect(listed.code).toBe(1);
    expect(listed.stdout).toContain('missing from index number');
    expect(listed.stderr).toMatch(/^2 problem\(s\): checked/);

    const rebuilt = await runCli(['rebuild-indexes', 'permits', '--path', dataPath]);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stderr).toContain('permits: rebuilt number, estimatedCost, client_county_status');
    expect((await runCli(['verify', '--path', dataPath])).code).toBe(0);
  });

  it('rebuilds every entity when none is named', async () => {
    await withRawDatabase(dataPath, 'inspections.index.permitId', (db) => db.clearSync());
    expect((await runCli(['verify', '--path', dataPath])).code).toBe(1);
    const rebuilt = await runCli(['rebuild-indexes', '--path', dataPath]);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stderr).toContain('inspections: rebuilt permitId, permitId_scheduledFor');
    expect(rebuilt.stderr).toContain('permits: rebuilt');
    expect((await runCli(['verify', '--path', dataPath])).code).toBe(0);
  });

  it('answers a usage error naming the entities for an entity the store does not have', async () => {
    const result = await runCli(['rebuild-indexes', 'permit', '--path', dataPath]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the store has no entity "permit" (its entities: inspections, permits)');
  });
});
