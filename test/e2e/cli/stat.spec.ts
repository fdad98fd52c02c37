import 'reflect-metadata';
import { join } from 'node:path';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { runCli } from './cli-process.util.js';
import { seedSampleStore, type SeededStore } from './cli-store.util.js';

describe('cli stat', () => {
  const dir = makeTempDir('nde-cli-stat-');
  const dataPath = join(dir.path, 'data');
  let seeded: SeededStore;

  beforeAll(async () => {
    seeded = await seedSampleStore(dataPath);
  });
  afterAll(() => dir.remove());

  it('reports per entity the records, index entries, changes and history the store holds, and the log', async () => {
    const result = await runCli(['stat', '--json', '--path', dataPath]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const stat = JSON.parse(result.stdout);
    const permits = stat.entities.find((entity: { name: string }) => entity.name === 'permits');
    const inspections = stat.entities.find((entity: { name: string }) => entity.name === 'inspections');
    expect(permits).toMatchObject({ records: seeded.permits, changes: seeded.permitChanges, historyEntries: seeded.permitHistoryEntries });
    expect(inspections.records).toBe(seeded.inspections);
    // Every record has one entry in every index, a missing value included.
    expect(permits.indexes.map((index: { name: string; entries: number }) => [index.name, index.entries])).toEqual([
      ['number', seeded.permits],
      ['estimatedCost', seeded.permits],
      ['client_county_status', seeded.permits],
    ]);
    expect(permits.indexes[0]).toMatchObject({ fields: ['number'], unique: true });
    expect(inspections.indexes.map((index: { entries: number }) => index.entries)).toEqual([seeded.inspections, seeded.inspections]);
    expect(stat.log).toMatchObject({ events: seeded.events, firstSeq: 1, lastSeq: seeded.events });
    // Permits are @Audited: one audit entry per change of a permit.
    expect(stat.databases._audit.entries).toBe(seeded.permitChanges);
    expect(stat.map.used).toBeGreaterThan(0);
    expect(stat.map.used).toBeLessThanOrEqual(stat.map.fileBytes);
    expect(stat.map.usedPercent).toBeGreaterThan(0);
    expect(stat.map.usedPercent).toBeLessThanOrEqual(100);
    expect(stat.map.pageSize).toBeGreaterThan(0);
  });

  it('prints the same figures as a table for people', async () => {
    const result = await runCli(['stat', '--path', dataPath]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`permits: ${seeded.permits} records`);
    expect(result.stdout).toContain(`index number(number) unique: ${seeded.permits} entries`);
    expect(result.stdout).toContain(`log: ${seeded.events} events, seq 1..${seeded.events}`);
  });
});
