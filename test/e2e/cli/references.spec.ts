import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Entity, EntityRepository, Field, getRepositoryToken, Reference } from '../../../lib/index.js';
import { createTestApp } from '../../support/test-app.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { exportStore, ndjson, runCli } from './cli-process.util.js';

@Entity('cli-sites')
class Site {
  @Field() name!: string;
}

/** Named to sort before its target: an export lists each permit before the site it refers to. */
@Entity('cli-permits')
class Permit {
  @Field() number!: string;
  @Field() @Reference(() => Site, { as: 'location', onDelete: 'cascade' }) siteId!: string;
}

const MISSING_SITE = '01JZZZZZZZZZZZZZZZZZZZZZZZ';

describe('the command line and @Reference', () => {
  const dir = makeTempDir('nde-cli-references-');
  const source = join(dir.path, 'source');
  const exported = join(dir.path, 'all.ndjson');
  let site: { id: string };

  beforeAll(async () => {
    const t = await createTestApp({ entities: [Site, Permit], path: source });
    try {
      site = await t.app.get<EntityRepository<Site>>(getRepositoryToken(Site)).create({ name: 'North yard' });
      const permits = t.app.get<EntityRepository<Permit>>(getRepositoryToken(Permit));
      for (let n = 0; n < 3; n++) await permits.create({ number: `P-${n}`, siteId: site.id });
    } finally {
      await t.close();
    }
    await exportStore(source, exported);
  }, 60_000);
  afterAll(() => dir.remove());

  it('records references in the catalog, the entity referred to by name', () => {
    const [header, first] = ndjson(result());
    const permits = header.catalog.entities.find((entity: { name: string }) => entity.name === 'cli-permits');
    expect(permits.references).toEqual([{ field: 'siteId', target: 'cli-sites', onDelete: 'cascade', as: 'location' }]);
    expect(header.catalog.entities.find((entity: { name: string }) => entity.name === 'cli-sites').references).toBeUndefined();
    // The records that refer come first: an import must not trip over its own order.
    expect(first.entity).toBe('cli-permits');
  });

  it('imports records before the ones they refer to, and the copy verifies', async () => {
    const copy = join(dir.path, 'copy');
    const imported = await runCli(['import', '--create', '--batch-size', '1', '--path', copy], { file: exported });
    expect(imported.stderr).toBe('imported 4 records (0 already stored) in 4 batch(es)\n');
    expect(imported.code).toBe(0);
    expect((await runCli(['verify', '--path', copy])).code).toBe(0);
  });

  it('fails an import that leaves a record referring to nothing, names it, and verify lists it until the record referred to comes', async () => {
    const copy = join(dir.path, 'dangling');
    const [header, ...lines] = ndjson(result());
    const orphan = { entity: 'cli-permits', record: { ...lines[0].record, id: '01JAAAAAAAAAAAAAAAAAAAAAAA', siteId: MISSING_SITE } };
    const input = [header, ...lines, orphan].map((line) => JSON.stringify(line)).join('\n');

    const imported = await runCli(['import', '--create', '--path', copy], input);
    expect(imported.code).toBe(1);
    expect(imported.stderr).toContain(
      'imported 5 records (0 already stored) in 1 batch(es), but 1 record(s) refer to records the store does not hold:\n' +
        `  cli-permits 01JAAAAAAAAAAAAAAAAAAAAAAA: siteId refers to no cli-sites record "${MISSING_SITE}"\n`,
    );
    const verify = await runCli(['verify', '--path', copy]);
    expect(verify.code).toBe(1);
    expect(verify.stdout + verify.stderr).toContain(`cli-permits 01JAAAAAAAAAAAAAAAAAAAAAAA: siteId refers to no cli-sites record "${MISSING_SITE}"`);

    const siteLine = lines.find((line) => line.entity === 'cli-sites');
    // An import that brings nothing dangling succeeds, whatever the store held before.
    const unrelated = { entity: 'cli-sites', record: { ...siteLine.record, id: '01JBBBBBBBBBBBBBBBBBBBBBBB', name: 'East yard' } };
    const other = await runCli(['import', '--path', copy], `${JSON.stringify(unrelated)}\n`);
    expect(other.stderr).toBe('imported 1 records (0 already stored) in 1 batch(es)\n');
    expect(other.code).toBe(0);

    const missing = { entity: 'cli-sites', record: { ...siteLine.record, id: MISSING_SITE, name: 'South yard' } };
    const completed = await runCli(['import', '--path', copy], `${JSON.stringify(missing)}\n`);
    expect(completed.stderr).toBe('imported 1 records (0 already stored) in 1 batch(es)\n');
    expect(completed.code).toBe(0);
    expect((await runCli(['verify', '--path', copy])).code).toBe(0);
  });

  it('imports an export of one entity into a new store, without the entity it refers to', async () => {
    const permitsOnly = await runCli(['export', 'cli-permits', '--path', source]);
    expect(permitsOnly.code).toBe(0);
    const copy = join(dir.path, 'permits-only');
    const imported = await runCli(['import', '--create', '--path', copy], permitsOnly.stdout);
    expect(imported.stderr).toBe('imported 3 records (0 already stored) in 1 batch(es)\n');
    expect(imported.code).toBe(0);
  });

  it('refuses a catalog line whose references are malformed', async () => {
    const [header] = ndjson(result());
    const broken = {
      catalog: { ...header.catalog, entities: header.catalog.entities.map((entity: object) => ({ ...entity, references: [{ field: 'siteId' }] })) },
    };
    const result2 = await runCli(['import', '--create', '--path', join(dir.path, 'broken')], `${JSON.stringify(broken)}\n`);
    expect(result2.code).toBe(1);
    expect(result2.stderr).toContain('line 1: the catalog line is malformed');
  });

  const result = () => readFileSync(exported, 'utf8');
});
