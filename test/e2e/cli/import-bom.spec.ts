import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { exportStore, ndjson, runCli } from './cli-process.util.js';
import { seedSampleStore } from './cli-store.util.js';

describe('import of an export saved with a UTF-8 byte order mark', () => {
  const dir = makeTempDir('import-bom-');
  const source = join(dir.path, 'source');
  const exported = join(dir.path, 'all.ndjson');
  beforeAll(async () => {
    await seedSampleStore(source, { permits: 5, inspections: 3 });
    await exportStore(source, exported);
  }, 60_000);
  afterAll(() => dir.remove());

  it('reads the catalog line after the BOM (an editor on Windows saved the file), rather than calling it missing', async () => {
    const withBom = join(dir.path, 'bom.ndjson');
    writeFileSync(withBom, `\uFEFF${readFileSync(exported, 'utf8')}`);
    const copy = join(dir.path, 'copy');
    const result = await runCli(['import', '--create', '--path', copy], { file: withBom });
    expect(result.stderr).not.toContain('--create needs the input to start with the catalog line');
    expect(result.code).toBe(0);
    expect(ndjson((await runCli(['export', '--path', copy])).stdout)).toEqual(ndjson(readFileSync(exported, 'utf8')));
  });

  it('into an existing store, does not fail line 1 (the catalog line) as "is not JSON"', async () => {
    const withBom = join(dir.path, 'bom2.ndjson');
    writeFileSync(withBom, `\uFEFF${readFileSync(exported, 'utf8')}`);
    const result = await runCli(['import', '--path', source], { file: withBom });
    expect(result.stderr).toBe('imported 0 records (7 already stored) in 1 batch(es)\n');
    expect(result.code).toBe(0);
  });
});
