import fc from 'fast-check';
import { Entity, Field, Historize, Index } from '../../../lib/index.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { openStore } from './write-pipeline/store-harness.util.js';

const NAME = 'prop-lots';

@Entity({ name: NAME, softDelete: true })
class LotV1 {
  @Field() @Historize('full') title!: string;
  @Field({ required: false }) legacy?: string;
  @Field() @Index({ unique: true }) code!: string;
}

/** The code of the record the broken release's step cannot read; set per run. */
let unreadable: string | undefined;

const steps = (update: (record: Readonly<Record<string, unknown>>) => Record<string, unknown>) => [
  { version: 2, rename: { title: 'name' }, remove: ['legacy'] },
  { version: 3, fill: { zone: 'R1' }, update },
];

@Entity({ name: NAME, softDelete: true, migrations: steps((lot) => ({ code: String(lot.code).toUpperCase() })) })
class LotV3 {
  @Field() @Historize('full') name!: string;
  @Field() zone!: string;
  @Field() @Index({ unique: true }) code!: string;
}

@Entity({
  name: NAME,
  softDelete: true,
  migrations: steps((lot) => {
    if (lot.code === unreadable) throw new Error('unreadable');
    return { code: String(lot.code).toUpperCase() };
  }),
})
class LotV3Broken {
  @Field() @Historize('full') name!: string;
  @Field() zone!: string;
  @Field() @Index({ unique: true }) code!: string;
}

const lot = fc.record({
  title: fc.string({ minLength: 1, maxLength: 12 }),
  legacy: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
  deleted: fc.boolean(),
});

describe('a migration cut short anywhere, in batches of any size, ends as one uninterrupted run would', () => {
  it('holds for any records, batch sizes, byte budgets and failing record', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lot, { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom(1, 300, 1_000_000),
        fc.option(fc.nat(), { nil: undefined }),
        async (lots, batchSize, batchBytes, failing) => {
          const dir = makeTempDir();
          try {
            let store = await openStore(dir.path, [LotV1]);
            const definition = store.storage.definitionOf(LotV1);
            const ids = await store.storage.write((tx) =>
              lots.map(({ title, legacy }, i) => tx.create(definition, { title, code: `c${i}`, ...(legacy && { legacy }) }).id),
            );
            await store.storage.write((tx) => lots.forEach(({ deleted }, i) => deleted && tx.delete(definition, ids[i]!)));

            unreadable = failing === undefined ? undefined : `c${failing % lots.length}`;
            await store.storage.migrations.migrate(createEntityDefinition(LotV3Broken), { batchSize, batchBytes }).catch(() => undefined);
            await store.close();
            store = await openStore(dir.path, [LotV3]);

            const tables = store.storage.tablesOf(store.storage.definitionOf(LotV3));
            lots.forEach(({ title, deleted }, i) => {
              const record = deleted ? tables.deleted!.get(ids[i]!) : tables.records.get(ids[i]!);
              const { id, createdAt, updatedAt, deletedAt, ...fields } = record as Record<string, unknown>;
              expect({ id, fields }).toEqual({
                id: ids[i],
                // Once through the steps: a live record one version on, a deleted one two (restored, changed, deleted again).
                fields: { name: title, zone: 'R1', code: `C${i}`, version: deleted ? 3 : 2 },
              });
              expect([createdAt, updatedAt, deleted ? deletedAt : 'live']).not.toContain(undefined);
              expect(deleted ? tables.records.get(ids[i]!) : tables.deleted!.get(ids[i]!)).toBeUndefined();
            });
            const migrated = store.storage.events(0, 10_000).filter((event) => event.migration !== undefined);
            expect(migrated.map((event) => event.id).sort()).toEqual([...ids].sort());
            expect(store.storage.schema.of(NAME)).toEqual({ version: 3 });
            expect(store.storage.verify().problems).toEqual([]);
            await store.close();
          } finally {
            dir.remove();
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
