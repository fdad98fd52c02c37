import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Entity, Field, type EntityMigration } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { openStore, type OpenStore } from './write-pipeline/store-harness.util.js';

const NAME = 'shape-lots';

@Entity(NAME)
class LotV1 {
  @Field() code!: string;
  @Field({ required: false }) size?: string;
  @Field({ required: false }) surveyed?: string;
}

/** `size` became a number; `surveyed` a date, which its stored ISO strings already are. */
@Entity(NAME)
class LotV2 {
  @Field() code!: string;
  @Field({ type: 'number', required: false }) size?: number;
  @Field({ type: 'date', required: false }) surveyed?: Date;
}

const TO_NUMBERS: EntityMigration[] = [{ version: 2, update: (lot) => (typeof lot.size === 'string' ? { size: Number(lot.size) } : undefined) }];

@Entity({ name: NAME, migrations: TO_NUMBERS })
class LotV2Migrated {
  @Field() code!: string;
  @Field({ type: 'number', required: false }) size?: number;
  @Field({ type: 'date', required: false }) surveyed?: Date;
}

describe('start-up warnings about stored records out of shape', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore | undefined;
  let warn: jest.SpiedFunction<Logger['warn']>;
  beforeEach(async () => {
    dir = makeTempDir('nde-shape-');
    store = await openStore(dir.path, [LotV1]);
    const lots = store.repo(LotV1);
    await lots.create({ code: 'a', size: '12', surveyed: '2026-01-02T00:00:00.000Z' });
    await lots.create({ code: 'b', size: '7' });
    await lots.create({ code: 'c' });
    await store.close();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    warn.mockRestore();
    await store?.close();
    store = undefined;
    dir.remove();
  });

  const typeWarnings = () => warn.mock.calls.map(([message]) => String(message)).filter((message) => message.includes(' now, but '));

  it('names a field whose type changed and counts the stored records holding a value of another type, once', async () => {
    store = await openStore(dir.path, [LotV2]);
    expect(typeWarnings()).toEqual([
      `${NAME}.size was a string and is a number now, but 2 stored records hold a value that is not: ` +
        "they are read as stored, and refused by import, until a migration step's update converts them",
    ]);
    // Read as stored, not converted.
    expect((await store.repo(LotV2).find({})).items.map((lot) => lot.size as unknown).sort()).toEqual(['12', '7', undefined]);
    await store.close();
    warn.mockClear();
    store = await openStore(dir.path, [LotV2]);
    expect(typeWarnings()).toEqual([]);
  });

  it('counts a stored text of a date not in stored form, which sorts apart from those that are', async () => {
    store = await openStore(dir.path, [LotV1]);
    await store.repo(LotV1).create({ code: 'd', surveyed: '2026-01-02t00:00:00z' });
    await store.repo(LotV1).create({ code: 'e', surveyed: '2026-01-03' });
    await store.close();
    store = await openStore(dir.path, [LotV2]);
    expect(typeWarnings().filter((message) => message.includes('.surveyed '))).toEqual([
      `${NAME}.surveyed was a string and is a date now, but 2 stored records hold a value that is not: ` +
        "they are read as stored, and refused by import, until a migration step's update converts them",
    ]);
  });

  it('is quiet when the migration that comes with the change converts the values', async () => {
    store = await openStore(dir.path, [LotV2Migrated]);
    expect(typeWarnings()).toEqual([]);
    const sizes = (await store.repo(LotV2Migrated).find({})).items.map((lot) => lot.size);
    expect(sizes.sort()).toEqual([12, 7, undefined]);
  });

  it('counts the live records still holding a deletedAt field of their own once softDelete reserves the name', async () => {
    @Entity('shape-tasks')
    class TaskV1 {
      @Field() title!: string;
      @Field({ required: false }) deletedAt?: Date;
    }
    @Entity({ name: 'shape-tasks', softDelete: true })
    class TaskV2 {
      @Field() title!: string;
    }
    await (store = await openStore(dir.path, [TaskV1])).repo(TaskV1).create({ title: 'gone', deletedAt: '2020-01-01T00:00:00.000Z' });
    await store.repo(TaskV1).create({ title: 'kept' });
    await store.close();
    store = await openStore(dir.path, [TaskV2]);
    expect(warn.mock.calls.map(([message]) => String(message)).filter((message) => message.includes('softDelete reserves'))).toEqual([
      'shape-tasks.deletedAt was a field of its own; softDelete reserves it now, and 1 live records still hold it, ' +
        "which makes them read as deleted: run the command line's drop-fields to remove it",
    ]);
  });
});
