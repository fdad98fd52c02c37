import 'reflect-metadata';
import { join } from 'node:path';
import { Entity, Field } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { asApp } from '../cli/app-store.util.js';
import { ndjson, runCli } from '../cli/cli-process.util.js';

/** An entity without softDelete may declare a field named `deletedAt` (only softDelete reserves it): its export imports again. */
@Entity('dat-chores')
class Chore {
  @Field() code!: string;
  @Field({ type: 'date', required: false }) deletedAt?: Date;
}

describe('export/import of an entity without softDelete that declares a deletedAt field', () => {
  let dir: ReturnType<typeof makeTempDir>;
  beforeEach(() => (dir = makeTempDir('nde-cli-deletedat-')));
  afterEach(() => dir.remove());

  it('round-trips the record, its deletedAt being an ordinary field value', async () => {
    const source = join(dir.path, 'source');
    await asApp(source, Chore, async (storage) => {
      const definition = storage.definitionOf(Chore);
      await storage.write((tx) => tx.create(definition, { code: 'a', deletedAt: '2026-01-01T00:00:00.000Z' }));
    });
    const exported = await runCli(['export', '--path', source]);
    expect(exported.code).toBe(0);
    expect(ndjson(exported.stdout)[1].record).toMatchObject({ code: 'a', deletedAt: '2026-01-01T00:00:00.000Z' });

    const target = join(dir.path, 'copy');
    const imported = await runCli(['import', '--create', '--path', target], exported.stdout);
    expect(imported.stderr).toBe('imported 1 records (0 already stored) in 1 batch(es)\n');
    expect(imported.code).toBe(0);
    expect(ndjson((await runCli(['export', '--path', target])).stdout)).toEqual(ndjson(exported.stdout));
    // Imported again, the record is found among the live ones and skipped.
    const again = await runCli(['import', '--path', target], exported.stdout);
    expect([again.code, again.stderr]).toEqual([0, 'imported 0 records (1 already stored) in 1 batch(es)\n']);
  });
});
