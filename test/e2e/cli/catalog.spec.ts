import 'reflect-metadata';
import { join } from 'node:path';
import { Entity, Field, Index } from '../../../lib/index.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { createStoreParts } from '../../../lib/wiring/store-parts.factory.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { ndjson, runCli } from './cli-process.util.js';
import { seedSampleStore } from './cli-store.util.js';

/** The sample's permits, renamed in a later version of the app: same route path, new entity name. */
@Entity({ name: 'building_permits', path: 'permits' })
class BuildingPermit {
  @Field()
  @Index({ unique: true })
  number!: string;
}

describe('the catalog an app records', () => {
  const dir = makeTempDir('nde-cli-catalog-');
  afterAll(() => dir.remove());

  it('keeps entities the app no longer registers, except one whose route path a renamed entity took', async () => {
    const dataPath = join(dir.path, 'data');
    const seeded = await seedSampleStore(dataPath, { permits: 5, inspections: 2 });
    const environment = new LmdbEnvironment(dataPath);
    const { storage } = createStoreParts(environment);
    const renamed = createEntityDefinition(BuildingPermit);
    storage.register(renamed);
    await storage.open();
    await storage.write((tx) => tx.create(renamed, { number: 'NEW-1' }));
    await storage.close();

    const stat = await runCli(['stat', '--json', '--path', dataPath]);
    expect(stat.code).toBe(0);
    const entities = JSON.parse(stat.stdout).entities.map((entity: { name: string; records: number }) => [entity.name, entity.records]);
    expect(entities).toEqual([
      ['building_permits', 1],
      ['inspections', seeded.inspections],
    ]);
    const [header, ...lines] = ndjson((await runCli(['export', 'inspections', '--path', dataPath])).stdout);
    expect(header.catalog.entities[0]).toMatchObject({ name: 'inspections', path: 'inspections' });
    expect(lines).toHaveLength(seeded.inspections);
    expect((await runCli(['verify', '--path', dataPath])).code).toBe(0);
  }, 60_000);
});
