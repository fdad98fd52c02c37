import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withSampleStore } from '../../support/sample-store.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { CLI_MAIN, exportStore, ndjson, runCli } from './cli-process.util.js';
import { definitionNamed, seedSampleStore, type SeededStore } from './cli-store.util.js';

describe('cli export and import', () => {
  const dir = makeTempDir('nde-cli-export-');
  const source = join(dir.path, 'source');
  const exported = join(dir.path, 'all.ndjson');
  let seeded: SeededStore;

  beforeAll(async () => {
    seeded = await seedSampleStore(source);
    await exportStore(source, exported);
  }, 60_000);
  afterAll(() => dir.remove());

  it('writes a catalog line, then every record with its hidden fields, one JSON object per line', () => {
    const [header, ...lines] = ndjson(readFileSync(exported, 'utf8'));
    expect(header.catalog.entities.map((entity: { name: string }) => entity.name)).toEqual(['inspections', 'permits']);
    expect(lines).toHaveLength(seeded.permits + seeded.inspections);
    expect(lines.filter((line) => line.entity === 'permits')).toHaveLength(seeded.permits);
    expect(lines.find((line) => line.entity === 'permits').record).toMatchObject({
      version: expect.any(Number),
      internalNotes: expect.stringMatching(/^note /),
    });
  });

  it('round-trips through import --create into a new directory: the same records, and a store that verifies', async () => {
    const target = join(dir.path, 'copy');
    const imported = await runCli(['import', '--create', '--actor', 'restorer', '--path', target], { file: exported });
    expect(imported.stderr).toBe(`imported ${seeded.permits + seeded.inspections} records (0 already stored) in 1 batch(es)\n`);
    expect(imported.code).toBe(0);
    expect((await runCli(['verify', '--path', target])).code).toBe(0);
    const again = await runCli(['export', '--path', target]);
    // Equal as values: a record's keys may come in another order (an update appends the keys it adds).
    expect(ndjson(again.stdout)).toEqual(ndjson(readFileSync(exported, 'utf8')));
    // Every record came in through the log, as a created event by the given actor.
    const events = ndjson((await runCli(['events', '--path', target])).stdout);
    expect(events).toHaveLength(seeded.permits + seeded.inspections);
    expect(new Set(events.map((event) => `${event.type} ${event.actor}`))).toEqual(new Set(['created restorer']));
    // The app's own definitions open the imported store as one of its own, history included.
    await withSampleStore(target, async (storage) => {
      expect(storage.verify().ok).toBe(true);
      const permit = definitionNamed(storage, 'permits');
      const [first] = storage.tablesOf(permit).records.getRange({ limit: 1 });
      expect(storage.history(permit, first!.key as string)?.fields.status?.[0]).toMatchObject({ value: first!.value.status, actor: 'restorer' });
    });
  });

  it('exports one entity when named', async () => {
    const result = await runCli(['export', 'inspections', '--path', source]);
    expect(result.code).toBe(0);
    const [header, ...lines] = ndjson(result.stdout);
    expect(header.catalog.entities.map((entity: { name: string }) => entity.name)).toEqual(['inspections']);
    expect(lines).toHaveLength(seeded.inspections);
    expect(new Set(lines.map((line) => line.entity))).toEqual(new Set(['inspections']));
  });

  it('stores nothing of a batch with a bad record, names the batch and line, and a second run skips what is stored', async () => {
    const target = join(dir.path, 'partial');
    const [header, ...records] = readFileSync(exported, 'utf8').trimEnd().split('\n');
    const input = [header!, ...records.slice(0, 25)];
    const bad = JSON.parse(input[14]!);
    input[14] = JSON.stringify({ ...bad, record: { ...bad.record, county: 42 } });
    const file = join(dir.path, 'bad.ndjson');
    writeFileSync(file, `${input.join('\n')}\n`);

    const failed = await runCli(['import', '--create', '--batch-size', '10', '--path', target], { file });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`batch 2 (lines 12-21) was not stored: line 15: ${bad.entity}: county must be a string`);
    expect(failed.stderr).toContain('The 1 batch(es) before it are stored (10 records)');
    expect(await recordCount(target)).toBe(10);

    input[14] = JSON.stringify(bad);
    writeFileSync(file, `${input.join('\n')}\n`);
    const resumed = await runCli(['import', '--batch-size', '10', '--path', target], { file });
    expect(resumed.stderr).toBe('imported 15 records (10 already stored) in 3 batch(es)\n');
    expect(resumed.code).toBe(0);
    expect(await recordCount(target)).toBe(25);
    expect((await runCli(['verify', '--path', target])).code).toBe(0);
  });

  it('refuses a record that breaks a unique index, takes the id of another or the name of a route, and changes nothing', async () => {
    const [, first] = readFileSync(exported, 'utf8')
      .split('\n')
      .map((line) => (line ? JSON.parse(line) : undefined));
    const permit = ndjson(readFileSync(exported, 'utf8')).find((line) => line.entity === 'permits');
    const twin = { entity: 'permits', record: { ...permit.record, id: '01ZZZZZZZZZZZZZZZZZZZZZZZZ' } };
    const unique = await runCli(['import', '--path', source], `${JSON.stringify(twin)}\n`);
    expect(unique.code).toBe(1);
    expect(unique.stderr).toContain('line 1: permits: another record has the same number (unique index "number")');
    const taken = { ...first, record: { ...first.record, version: first.record.version + 1 } };
    const clash = await runCli(['import', '--path', source], `${JSON.stringify(taken)}\n`);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain(`line 1: ${first.entity}: id ${first.record.id} is already taken`);
    const routeName = { entity: 'permits', record: { ...permit.record, id: 'Changes', number: 'BP-ROUTE' } };
    const shadowed = await runCli(['import', '--path', source], `${JSON.stringify(routeName)}\n`);
    expect(shadowed.code).toBe(1);
    expect(shadowed.stderr).toContain(
      "line 1: permits: id Changes is the name of the change feed's route (GET /permits/changes), which would answer in its place",
    );
    const after = JSON.parse((await runCli(['stat', '--json', '--path', source])).stdout);
    expect(after.log.lastSeq).toBe(seeded.events);
  });

  it('names the line of input that is not an export line', async () => {
    const result = await runCli(['import', '--path', source], '{"entity":"permits","record":{}}\nnot json\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('batch 1 (lines 1-2) was not stored: line 1: permits: ');
    const garbage = await runCli(['import', '--path', source], 'not json\n');
    expect(garbage.stderr).toContain('line 1: is not JSON');
  });

  it('ends quietly with exit code 0 when its reader closes the pipe early (export | head)', async () => {
    const big = join(dir.path, 'big');
    await seedSampleStore(big, { permits: 1500, inspections: 0 });
    const codeFile = join(dir.path, 'export-code');
    const { stdout, stderr } = await promisify(execFile)('/bin/sh', [
      '-c',
      `{ '${process.execPath}' '${CLI_MAIN}' export permits --path '${big}'; echo $? > '${codeFile}'; } | head -c 200`,
    ]);
    expect(stdout).toHaveLength(200);
    expect(stderr).toBe('');
    expect(readFileSync(codeFile, 'utf8').trim()).toBe('0');
  }, 60_000);

  it('wants --create to make a new store, and the catalog line to make it from', async () => {
    const missing = await runCli(['import', '--path', join(dir.path, 'nowhere')], { file: exported });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('pass --create to make a new store there');
    const headless = await runCli(['import', '--create', '--path', join(dir.path, 'nowhere')], readFileSync(exported, 'utf8').split('\n').slice(1).join('\n'));
    expect(headless.code).toBe(2);
    expect(headless.stderr).toContain('--create needs the input to start with the catalog line');
  });
});

async function recordCount(path: string): Promise<number> {
  const stat = JSON.parse((await runCli(['stat', '--json', '--path', path])).stdout);
  return stat.entities.reduce((sum: number, entity: { records: number }) => sum + entity.records, 0);
}
