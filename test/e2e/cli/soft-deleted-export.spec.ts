import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Entity, EntityRepository, Field, getRepositoryToken, Index, UniqueConstraintException } from '../../../lib/index.js';
import { createTestApp } from '../../support/test-app.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { exportStore, ndjson, runCli } from './cli-process.util.js';

@Entity({ name: 'cli-tags', softDelete: true })
class Tag {
  @Field() @Index({ unique: true }) code!: string;
}

@Entity('cli-plain')
class Plain {
  @Field() text!: string;
}

describe('export and import of soft-deleted records', () => {
  const dir = makeTempDir('nde-cli-soft-deleted-');
  const source = join(dir.path, 'source');
  const exported = join(dir.path, 'all.ndjson');
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const t = await createTestApp({ entities: [Tag, Plain], path: source });
    try {
      const tags = t.app.get<EntityRepository<Tag>>(getRepositoryToken(Tag));
      // The first holder of "X" is deleted, which frees "X" for a second, live one.
      ids.first = (await tags.create({ code: 'X' })).id;
      await tags.delete(ids.first);
      ids.second = (await tags.create({ code: 'X' })).id;
      ids.other = (await tags.create({ code: 'Y' })).id;
      await tags.delete(ids.other);
      await t.app.get<EntityRepository<Plain>>(getRepositoryToken(Plain)).create({ text: 'plain' });
    } finally {
      await t.close();
    }
    await exportStore(source, exported);
  }, 60_000);
  afterAll(() => dir.remove());

  it('exports deleted records after the live ones, with their deletedAt', () => {
    const lines = ndjson(readFileSync(exported, 'utf8')).slice(1);
    const tags = lines.filter((line) => line.entity === 'cli-tags').map((line) => [line.record.id, line.record.deletedAt]);
    expect(tags).toEqual([
      [ids.second, undefined],
      [ids.first, expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/)],
      [ids.other, expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/)],
    ]);
  });

  it('imports them as deleted records, deletedAt kept, beside a live record holding the same unique value', async () => {
    const copy = join(dir.path, 'copy');
    const imported = await runCli(['import', '--create', '--path', copy], { file: exported });
    expect(imported.stderr).toBe('imported 4 records (0 already stored) in 1 batch(es)\n');
    expect(imported.code).toBe(0);
    expect((await runCli(['verify', '--path', copy])).code).toBe(0);
    expect(ndjson((await runCli(['export', '--path', copy])).stdout)).toEqual(ndjson(readFileSync(exported, 'utf8')));
    const again = await runCli(['import', '--path', copy], { file: exported });
    expect(again.stderr).toBe('imported 0 records (4 already stored) in 1 batch(es)\n');

    const t = await createTestApp({ entities: [Tag, Plain], path: copy });
    try {
      const tags = t.app.get<EntityRepository<Tag>>(getRepositoryToken(Tag));
      expect((await tags.find({ deleted: 'only' })).items.map((tag) => tag.id)).toEqual([ids.first, ids.other]);
      await expect(tags.restore(ids.first)).rejects.toBeInstanceOf(UniqueConstraintException);
      expect(await tags.restore(ids.other)).toEqual(expect.objectContaining({ id: ids.other, code: 'Y' }));
    } finally {
      await t.close();
    }
  });

  it('refuses deletedAt on an entity that keeps no deleted records', async () => {
    const copy = join(dir.path, 'plain');
    const [header, ...lines] = ndjson(readFileSync(exported, 'utf8'));
    const plain = lines.find((line) => line.entity === 'cli-plain');
    const input = [header, { ...plain, record: { ...plain.record, deletedAt: '2026-01-01T00:00:00.000Z' } }].map((line) => JSON.stringify(line)).join('\n');
    const result = await runCli(['import', '--create', '--path', copy], input);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('line 2: cli-plain: deletedAt: cli-plain keeps no deleted records (no softDelete)');
  });
});
