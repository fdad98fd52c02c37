import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Audited, Entity, Field, Historize, Index } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { asApp } from './app-store.util.js';
import { CLI_MAIN, runCli } from './cli-process.util.js';

/** The entities as version 1 of an app declared them. */
@Entity('mig-parcels')
@Audited()
class ParcelV1 {
  @Field() @Historize('full') title!: string;
  @Field({ required: false }) legacy?: string;
  @Field() @Index({ unique: true }) code!: string;
}

/** Version 1 of another app, with no unique index on code. */
@Entity('mig-parcels')
class LooseParcelV1 {
  @Field() title!: string;
  @Field() code!: string;
}

/** Version 2, as the compiled module below declares it: what the app runs once migrated. */
@Entity({ name: 'mig-parcels', migrations: [{ version: 2, rename: { title: 'name' }, remove: ['legacy'], fill: { priority: 'normal' } }] })
@Audited()
class ParcelV2 {
  @Field() @Historize('full') name!: string;
  @Field() priority!: string;
  @Field() @Index({ unique: true }) code!: string;
}

/** The package as the command line runs it, for modules that declare entities in plain JavaScript. */
const PACKAGE = pathToFileURL(join(CLI_MAIN, '..', '..', 'index.js')).href;

/**
 * A compiled module exporting version 2 of the entity, as `tsc` would emit it (decorators
 * applied by hand): what `--entities` loads. `update` is the body of its step's update.
 */
function entitiesModule(path: string, update = 'return { code: String(record.code).toUpperCase() };'): string {
  const file = join(path, 'entities.mjs');
  writeFileSync(
    file,
    `import { Audited, Entity, Field, Historize, Index } from ${JSON.stringify(PACKAGE)};
export class Parcel {}
Field({ type: 'string' })(Parcel.prototype, 'name');
Historize('full')(Parcel.prototype, 'name');
Field({ type: 'string' })(Parcel.prototype, 'priority');
Field({ type: 'string' })(Parcel.prototype, 'code');
Index({ unique: true })(Parcel.prototype, 'code');
Audited()(Parcel);
Entity({
  name: 'mig-parcels',
  migrations: [{ version: 2, rename: { title: 'name' }, remove: ['legacy'], fill: { priority: 'normal' }, update: (record) => { ${update} } }],
})(Parcel);
`,
  );
  return file;
}

/** A store written by version 1: three parcels, the first with `legacy` and a second title. */
async function versionOneStore(path: string): Promise<string[]> {
  return asApp(path, ParcelV1, async (storage) => {
    const definition = storage.definitionOf(ParcelV1);
    return storage.write((tx) => {
      const ids = ['a', 'b', 'c'].map((code, i) => tx.create(definition, { title: `t-${code}`, code, ...(i === 0 && { legacy: 'L' }) }).id);
      tx.update(definition, ids[0]!, { title: 't-a2' });
      return ids;
    });
  });
}

describe('cli migrate', () => {
  let dir: ReturnType<typeof makeTempDir>;
  beforeEach(() => (dir = makeTempDir('nde-cli-migrate-')));
  afterEach(() => dir.remove());

  it('--dry-run lists what each record would become and changes nothing', async () => {
    const path = join(dir.path, 'data');
    const [a, b, c] = await versionOneStore(path);
    const before = readFileSync(join(path, 'data.mdb'));

    const result = await runCli(['migrate', '--entities', entitiesModule(dir.path), '--dry-run', '--path', path]);

    expect(result.stderr).toBe('mig-parcels 1 → 2: would change 3 records\n');
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      `mig-parcels ${a}: set code, priority; cleared legacy; renamed title → name`,
      `mig-parcels ${b}: set code, priority; renamed title → name`,
      `mig-parcels ${c}: set code, priority; renamed title → name`,
    ]);
    expect(readFileSync(join(path, 'data.mdb')).equals(before)).toBe(true);
  });

  it('--dry-run names each record that could not be migrated and exits 1', async () => {
    const path = join(dir.path, 'data');
    const [, b] = await versionOneStore(path);
    const module = entitiesModule(dir.path, "if (record.code === 'b') throw new Error('no rule for b'); return undefined;");

    const result = await runCli(['migrate', '--entities', module, '--dry-run', '--path', path]);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`mig-parcels ${b}: cannot be migrated: version 2 update failed: no rule for b\n`);
    expect(result.stderr).toContain('1 records could not be migrated (listed above)');
  });

  it('runs the steps as update events by --actor, in batches, and the app then starts with nothing left to do', async () => {
    const path = join(dir.path, 'data');
    const [a, b, c] = await versionOneStore(path);

    const result = await runCli(['migrate', '--entities', entitiesModule(dir.path), '--batch-size', '2', '--actor', 'ops', '--path', path]);

    expect(result.stderr).toBe('migrating the records of mig-parcels from version 1 to 2: steps 2\nmig-parcels is at version 2: 3 records changed\n');
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(3);
    await asApp(path, ParcelV2, async (storage, audit) => {
      expect(storage.schema.of('mig-parcels')).toEqual({ version: 2 });
      const records = storage.tablesOf(storage.definitionOf(ParcelV2)).records;
      expect([a, b, c].map((id) => records.get(id!))).toEqual([
        expect.objectContaining({ name: 't-a2', priority: 'normal', code: 'A', version: 3 }),
        expect.objectContaining({ name: 't-b', priority: 'normal', code: 'B', version: 2 }),
        expect.objectContaining({ name: 't-c', priority: 'normal', code: 'C', version: 2 }),
      ]);
      expect(records.get(a!)).not.toHaveProperty('legacy');
      const migrated = storage.events(0, 100).filter((event) => event.migration === 2);
      expect(migrated.map((event) => [event.id, event.actor])).toEqual([a, b, c].map((id) => [id, 'ops']));
      expect((await audit.find({ entity: 'mig-parcels', actor: 'ops' })).items.map((entry) => entry.migration)).toEqual([2, 2, 2]);
      // The app's start found the records at its version: no second run.
      expect(storage.events(0, 100)).toHaveLength(7);
      expect(storage.verify().problems).toEqual([]);
    });

    const again = await runCli(['migrate', '--entities', entitiesModule(dir.path), '--path', path]);
    expect(again).toMatchObject({ code: 0, stdout: '', stderr: 'no record needed a change\n' });

    // The catalog now describes the migrated records: the other commands work from it.
    expect(await runCli(['drop-fields', '--dry-run', '--path', path])).toMatchObject({ code: 0, stdout: '' });
    const exported = await runCli(['export', '--path', path]);
    expect(exported.code).toBe(0);
    const copy = join(dir.path, 'copy');
    expect((await runCli(['import', '--create', '--path', copy], exported.stdout)).code).toBe(0);
    expect((await runCli(['verify', '--path', copy])).code).toBe(0);
  });

  it('builds the indexes of the classes before any step: a unique value the steps would repeat fails with no record changed', async () => {
    const path = join(dir.path, 'data');
    // The first release had no unique index on code; the classes given bring one.
    const ids = await asApp(path, LooseParcelV1, (storage) =>
      storage.write((tx) => {
        const definition = storage.definitionOf(LooseParcelV1);
        return [tx.create(definition, { title: 'lower', code: 'a' }).id, tx.create(definition, { title: 'upper', code: 'A' }).id];
      }),
    );

    const result = await runCli(['migrate', '--entities', entitiesModule(dir.path), '--path', path]);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/migrating mig-parcels \S+ failed: .*unique index "code".*the next run goes on from that record/);
    await asApp(path, LooseParcelV1, async (storage) => {
      expect(storage.schema.of('mig-parcels')).toEqual({ version: 1 });
      const records = storage.tablesOf(storage.definitionOf(LooseParcelV1)).records;
      expect(ids.map((id) => records.get(id)!.code)).toEqual(['a', 'A']);
    });
  });

  it('makes the commands that work from the catalog wait while a migration is part way', async () => {
    const path = join(dir.path, 'data');
    const [, b] = await versionOneStore(path);
    const failing = entitiesModule(dir.path, "if (record.code === 'c') throw new Error('no rule for c'); return undefined;");
    const stopped = await runCli(['migrate', '--entities', failing, '--batch-size', '1', '--path', path]);
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toContain(`mig-parcels ${b}: `);

    for (const command of [['drop-fields'], ['export'], ['import']]) {
      const refused = await runCli([...command, '--path', path], '');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('the records of mig-parcels are part way from version 1 to 2, while the store');
    }
  });

  it("lets a command work on an entity whose records are settled while another's migration is part way", async () => {
    const path = join(dir.path, 'data');
    await versionOneStore(path);
    const site = `Field({ type: 'string' })(Site.prototype, 'label');\nEntity('mig-sites')(Site);\n`;
    // The classes of version one and a second entity, recorded in the catalog by a migrate that has nothing to migrate.
    const first = join(dir.path, 'first.mjs');
    writeFileSync(
      first,
      `import { Entity, Field, Index } from ${JSON.stringify(PACKAGE)};
export class Parcel {}
Field({ type: 'string' })(Parcel.prototype, 'title');
Field({ type: 'string' })(Parcel.prototype, 'code');
Index({ unique: true })(Parcel.prototype, 'code');
Field({ type: 'string', required: false })(Parcel.prototype, 'legacy');
Entity('mig-parcels')(Parcel);
export class Site {}
${site}`,
    );
    expect((await runCli(['migrate', '--entities', first, '--path', path])).code).toBe(0);
    const failing = entitiesModule(dir.path, "if (record.code === 'c') throw new Error('no rule for c'); return undefined;");
    writeFileSync(failing, `${readFileSync(failing, 'utf8')}export class Site {}\n${site}`);
    expect((await runCli(['migrate', '--entities', failing, '--batch-size', '1', '--path', path])).code).toBe(1);

    expect((await runCli(['export', '--path', path])).code).toBe(1);
    const sites = await runCli(['export', 'mig-sites', '--path', path]);
    expect(sites.stderr).toBe('exported 0 records of mig-sites\n');
    expect(sites.code).toBe(0);
    expect((await runCli(['drop-fields', 'mig-sites', '--path', path])).code).toBe(0);
  });

  it('refuses a store whose records are newer than the classes it is given', async () => {
    const path = join(dir.path, 'data');
    await versionOneStore(path);
    await asApp(path, ParcelV2, async () => undefined);
    const module = join(dir.path, 'v1.mjs');
    writeFileSync(
      module,
      `import { Entity, Field } from ${JSON.stringify(PACKAGE)};
export default class Parcel {}
Field({ type: 'string' })(Parcel.prototype, 'title');
Entity('mig-parcels')(Parcel);
`,
    );

    const result = await runCli(['migrate', '--entities', module, '--dry-run', '--path', path]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the records of mig-parcels are at schema version 2, newer than version 1 this code declares');
  });

  it('--dry-run refuses, as the run does, classes whose @Reference names a class the file does not export', async () => {
    const path = join(dir.path, 'data');
    await versionOneStore(path);
    const module = join(dir.path, 'dangling.mjs');
    writeFileSync(
      module,
      `import { Entity, Field, Reference } from ${JSON.stringify(PACKAGE)};
class Site {}
Field({ type: 'string' })(Site.prototype, 'name');
Entity('mig-sites')(Site);
export class Parcel {}
Field({ type: 'string' })(Parcel.prototype, 'title');
Field({ type: 'string' })(Parcel.prototype, 'code');
Field({ type: 'string', required: false })(Parcel.prototype, 'site');
Reference(() => Site)(Parcel.prototype, 'site');
Entity('mig-parcels')(Parcel);
`,
    );
    const message = '@Reference(() => Site) refers to a class that is not an entity of this store';

    const planned = await runCli(['migrate', '--entities', module, '--dry-run', '--path', path]);
    const run = await runCli(['migrate', '--entities', module, '--path', path]);

    expect(planned).toMatchObject({ code: 1, stdout: '' });
    expect(planned.stderr).toContain(message);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
  });

  it('says what is wrong with an --entities file that cannot be used (exit 2)', async () => {
    const path = join(dir.path, 'data');
    await versionOneStore(path);
    const empty = join(dir.path, 'empty.mjs');
    writeFileSync(empty, 'export const nothing = 1;\n');

    const missing = await runCli(['migrate', '--entities', join(dir.path, 'nope.mjs'), '--path', path]);
    const none = await runCli(['migrate', '--entities', empty, '--path', path]);

    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot load --entities .*nope\.mjs: /);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('exports no @Entity() class');
  });

  it('export states the version of the records, and import refuses records of another version than the store', async () => {
    const path = join(dir.path, 'data');
    await versionOneStore(path);
    await asApp(path, ParcelV2, async () => undefined);
    const exported = await runCli(['export', '--path', path]);
    expect(exported.code).toBe(0);
    const header = JSON.parse(exported.stdout.split('\n')[0]!) as { catalog: { entities: Array<{ name: string; version?: number }> } };
    expect(header.catalog.entities).toEqual([expect.objectContaining({ name: 'mig-parcels', version: 2 })]);

    const older = join(dir.path, 'older');
    await versionOneStore(older);
    const refused = await runCli(['import', '--path', older], exported.stdout);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("the export holds mig-parcels records at schema version 2, the store's are at 1");

    const copy = join(dir.path, 'copy');
    const created = await runCli(['import', '--create', '--path', copy], exported.stdout);
    expect(created.code).toBe(0);
    await asApp(copy, ParcelV2, async (storage) => {
      expect(storage.schema.of('mig-parcels')).toEqual({ version: 2 });
      // Nothing migrated a second time: only the import's created events.
      expect(storage.events(0, 100).map((event) => event.type)).toEqual(['created', 'created', 'created']);
    });
  });
});
