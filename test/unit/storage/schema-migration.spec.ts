import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import {
  Audited,
  Entity,
  Field,
  Historize,
  Index,
  MigrationFailedException,
  MigrationsPendingException,
  StoreSchemaNewerException,
} from '../../../lib/index.js';
import type { EntityMigration } from '../../../lib/index.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import type { EntityEvent } from '../../../lib/storage/entity-event.interface.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { openStore, type OpenStore } from './write-pipeline/store-harness.util.js';

const NAME = 'mig-tasks';

/** Version 1 as first shipped. */
@Entity({ name: NAME, softDelete: true })
@Audited()
class TaskV1 {
  @Field() @Historize('full') title!: string;
  @Field({ required: false }) legacy?: string;
  @Field() @Index({ unique: true }) code!: string;
}

const STEPS: EntityMigration[] = [
  { version: 2, description: 'title is called name', rename: { title: 'name' }, remove: ['legacy'] },
  { version: 3, fill: { priority: 'normal' }, update: (record) => ({ code: String(record.code).toUpperCase() }) },
];

/** Version 3: title renamed, legacy gone, priority new and required, codes upper case. */
@Entity({ name: NAME, softDelete: true, migrations: STEPS })
@Audited()
class TaskV3 {
  @Field() @Historize('full') name!: string;
  @Field() priority!: string;
  @Field() @Index({ unique: true }) code!: string;
}

/** Version 3 whose last step fails on one record, as a bug in a migration would. */
@Entity({
  name: NAME,
  softDelete: true,
  migrations: [
    STEPS[0]!,
    {
      version: 3,
      fill: { priority: 'normal' },
      update: (record) => {
        if (record.code === 'c5') throw new Error('cannot read c5');
        return { code: String(record.code).toUpperCase() };
      },
    },
  ],
})
@Audited()
class TaskV3Broken {
  @Field() @Historize('full') name!: string;
  @Field() priority!: string;
  @Field() @Index({ unique: true }) code!: string;
}

/** Version 2 as an older release shipped it, whose step failed on one record. */
@Entity({
  name: NAME,
  softDelete: true,
  migrations: [
    {
      ...STEPS[0]!,
      update: (record) => {
        if (record.code === 'c3') throw new Error('cannot read c3');
        return undefined;
      },
    },
  ],
})
@Audited()
class TaskV2Broken {
  @Field() @Historize('full') name!: string;
  @Field() @Index({ unique: true }) code!: string;
}

/** Version 1 with a new required field and no step to fill it. */
@Entity({ name: NAME, softDelete: true })
@Audited()
class TaskV1WithOwner {
  @Field() @Historize('full') title!: string;
  @Field({ required: false }) legacy?: string;
  @Field() @Index({ unique: true }) code!: string;
  @Field({ default: 'nobody' }) owner!: string;
}

/** Two historized fields, swapped by the next version. */
@Entity('mig-swaps')
class SwapV1 {
  @Field() @Historize('full') first!: string;
  @Field() @Historize('full') second!: string;
}

@Entity({ name: 'mig-swaps', migrations: [{ version: 2, rename: { first: 'second', second: 'first' } }] })
class SwapV2 {
  @Field() @Historize('full') first!: string;
  @Field() @Historize('full') second!: string;
}

function events(store: OpenStore): EntityEvent[] {
  return store.storage.events(0, 100_000);
}

describe('schema migrations (@Entity({ migrations }))', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore | undefined;

  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    dir.remove();
  });

  /** Stores version 1 records: three live (one changed twice), one soft-deleted. */
  async function seed(count = 3): Promise<{ ids: string[]; deletedId: string; deletedAt: string }> {
    store = await openStore(dir.path, [TaskV1]);
    const tasks = store.repo(TaskV1);
    const ids: string[] = [];
    for (let i = 1; i <= count; i++) ids.push((await tasks.create({ title: `t${i}`, code: `c${i}`, ...(i === 1 && { legacy: 'old' }) })).id);
    await tasks.update(ids[0]!, { title: 't1b' });
    const gone = await tasks.create({ title: 'gone', code: 'cx', legacy: 'x' });
    await tasks.delete(gone.id);
    const deletedAt = ((await tasks.find({ deleted: 'only' })).items[0] as { deletedAt?: string }).deletedAt!;
    await store.close();
    store = undefined;
    return { ids, deletedId: gone.id, deletedAt };
  }

  it('takes every record through the steps at start-up, once, as update events that name the version', async () => {
    const { ids, deletedId, deletedAt } = await seed();
    store = await openStore(dir.path, [TaskV3]);
    const tasks = store.repo(TaskV3);

    const first = await tasks.findById(ids[0]!);
    expect(first).toMatchObject({ name: 't1b', priority: 'normal', code: 'C1', version: 3 });
    expect(first).not.toHaveProperty('title');
    expect(first).not.toHaveProperty('legacy');
    expect(await tasks.findById(ids[1]!)).toMatchObject({ name: 't2', priority: 'normal', code: 'C2', version: 2 });
    // Soft-deleted records go through the steps too and stay deleted, with their deletedAt.
    const [deleted] = (await tasks.find({ deleted: 'only' })).items;
    expect(deleted).toMatchObject({ id: deletedId, name: 'gone', code: 'CX', priority: 'normal', deletedAt });
    expect(deleted).not.toHaveProperty('legacy');
    // The unique index holds the new values.
    expect((await tasks.find({ where: { code: 'C2' } })).items.map((task) => task.id)).toEqual([ids[1]]);

    const migrations = events(store).filter((event) => event.migration !== undefined);
    expect(migrations.filter((event) => event.id !== deletedId).map((event) => [event.id, event.type, event.migration])).toEqual(
      ids.map((id) => [id, 'updated', 3]),
    );
    expect(migrations.find((event) => event.id === ids[0])).toMatchObject({
      renamed: { title: 'name' },
      data: { name: 't1b', title: null, legacy: null, priority: 'normal', code: 'C1' },
    });
    // The renamed field's history moved with it, and the move added no value.
    expect((await tasks.history(ids[0]!))!.fields.name!.map((entry) => [entry.value, entry.version])).toEqual([
      ['t1b', 2],
      ['t1', 1],
    ]);
    const audit = await store.audit.find({ entity: NAME, id: ids[0]! });
    expect(audit.items.at(-1)).toMatchObject({ action: 'update', version: 3, migration: 3, changes: { code: { from: 'c1', to: 'C1' } } });
    expect(store.storage.schema.of(NAME)).toEqual({ version: 3 });
    expect(store.storage.verify().problems).toEqual([]);

    const logged = events(store).length;
    await store.close();
    store = await openStore(dir.path, [TaskV3]);
    expect(events(store)).toHaveLength(logged);
    expect(await store.repo(TaskV3).findById(ids[1]!)).toMatchObject({ version: 2 });
  });

  it('refuses to open the store with code older than its records', async () => {
    await seed(1);
    store = await openStore(dir.path, [TaskV3]);
    await store.close();
    store = undefined;
    await expect(openStore(dir.path, [TaskV1])).rejects.toThrow(StoreSchemaNewerException);
    await expect(openStore(dir.path, [TaskV1])).rejects.toThrow(/mig-tasks are at schema version 3, newer than version 1/);
  });

  it("with migrate: 'manual', refuses to start while records wait, and starts an empty store at the declared version", async () => {
    await seed(1);
    await expect(openStore(dir.path, [TaskV3], { migrate: 'manual' })).rejects.toThrow(MigrationsPendingException);
    await expect(openStore(dir.path, [TaskV3], { migrate: 'manual' })).rejects.toThrow(/mig-tasks 1 → 3.*migrate --path/);

    await expect(openStore(dir.path, [TaskV3], { migrate: 'auto' as never })).rejects.toThrow(/migrate must be 'on-start' or 'manual', not "auto"/);

    const empty = makeTempDir();
    try {
      const fresh = await openStore(empty.path, [TaskV3], { migrate: 'manual' });
      expect(fresh.storage.schema.of(NAME)).toEqual({ version: 3 });
      await fresh.close();
    } finally {
      empty.remove();
    }
  });

  it('a run stopped by a record that cannot be migrated keeps its finished batches, and the next run goes on from there', async () => {
    const { ids } = await seed(7);
    store = await openStore(dir.path, [TaskV1]);
    const broken = createEntityDefinition(TaskV3Broken);
    await expect(store.storage.migrations.migrate(broken, { batchSize: 2 })).rejects.toThrow(MigrationFailedException);
    await expect(store.storage.migrations.migrate(broken, { batchSize: 2 })).rejects.toThrow(
      /migrating mig-tasks \S+ failed: version 3 update failed: cannot read c5/,
    );
    const stopped = store.storage.schema.of(NAME);
    expect(stopped).toEqual({ version: 1, migrating: { to: 3, phase: 'live', after: ids[3] } });
    const dryRun = [...store.storage.migrations.dryRun(broken)];
    expect(dryRun.filter((outcome) => 'problems' in outcome).map((outcome) => outcome.id)).toEqual([ids[4]]);
    await store.close();

    store = await openStore(dir.path, [TaskV3]);
    const tasks = store.repo(TaskV3);
    for (const [i, id] of ids.entries()) {
      // Migrated once each: the first record had one more update before.
      expect(await tasks.findById(id)).toMatchObject({ code: `C${i + 1}`, version: i === 0 ? 3 : 2 });
    }
    expect(store.storage.schema.of(NAME)).toEqual({ version: 3 });
    expect(store.storage.verify().problems).toEqual([]);
  });

  it('a run of older code cut short is finished to its version by newer code, then taken on to the newer one', async () => {
    const { ids } = await seed(5);
    store = await openStore(dir.path, [TaskV1]);
    await expect(store.storage.migrations.migrate(createEntityDefinition(TaskV2Broken), { batchSize: 2 })).rejects.toThrow(/cannot read c3/);
    expect(store.storage.schema.of(NAME)).toEqual({ version: 1, migrating: { to: 2, phase: 'live', after: ids[1] } });
    // What the newer code would do, from where the older run stopped.
    const planned = [...store.storage.migrations.dryRun(createEntityDefinition(TaskV3))];
    expect(planned.find((outcome) => outcome.id === ids[0])).toMatchObject({ change: { data: { priority: 'normal', code: 'C1' } } });
    expect(planned.find((outcome) => outcome.id === ids[2])).toMatchObject({ change: { data: { title: null, name: 't3', code: 'C3' } } });
    await store.close();

    store = await openStore(dir.path, [TaskV3]);
    const tasks = store.repo(TaskV3);
    for (const [i, id] of ids.entries()) expect(await tasks.findById(id)).toMatchObject({ name: i === 0 ? 't1b' : `t${i + 1}`, code: `C${i + 1}` });
    expect((await tasks.history(ids[2]!))!.fields.name!.map((entry) => entry.value)).toEqual(['t3']);
    expect((await tasks.history(ids[0]!))!.fields.name!.map((entry) => entry.value)).toEqual(['t1b', 't1']);
    expect(store.storage.schema.of(NAME)).toEqual({ version: 3 });
    expect(store.storage.verify().problems).toEqual([]);
  });

  it('warns at the start that makes a field required which stored records lack, and is quiet once a step fills it', async () => {
    await seed(2);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      store = await openStore(dir.path, [TaskV1WithOwner]);
      expect(warn.mock.calls.map(([message]) => message)).toContain(
        'mig-tasks.owner is required now, but 2 stored records lack it: add a migration step that fills it',
      );
      await store.close();
      warn.mockClear();
      store = await openStore(dir.path, [TaskV3]);
      // priority is new and required too, and the steps fill it.
      expect(warn.mock.calls.filter(([message]) => String(message).includes('is required now'))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });

  it('swaps two fields, values and history, without losing either', async () => {
    store = await openStore(dir.path, [SwapV1]);
    const swaps = store.repo(SwapV1);
    const { id } = await swaps.create({ first: 'a1', second: 'b1' });
    await swaps.update(id, { first: 'a2' });
    await store.close();

    store = await openStore(dir.path, [SwapV2]);
    expect(await store.repo(SwapV2).findById(id)).toMatchObject({ first: 'b1', second: 'a2', version: 3 });
    const history = (await store.repo(SwapV2).history(id))!.fields;
    expect(history.first!.map((entry) => entry.value)).toEqual(['b1']);
    expect(history.second!.map((entry) => entry.value)).toEqual(['a2', 'a1']);
    expect(store.storage.verify().problems).toEqual([]);
  });

  it('keeps each batch within a byte budget, so a replicated batch fits in one message', async () => {
    const { ids } = await seed(5);
    store = await openStore(dir.path, [TaskV1]);
    // One record per transaction: the failure at the third leaves the first two stored.
    await expect(store.storage.migrations.migrate(createEntityDefinition(TaskV3Broken), { batchBytes: 1 })).rejects.toThrow(/cannot read c5/);
    expect(store.storage.schema.of(NAME).migrating?.after).toBe(ids[3]);
  });

  it('refuses to go on with a migration that newer code started, however long ago this code checked', async () => {
    await seed(5);
    store = await openStore(dir.path, [TaskV1]);
    await expect(store.storage.migrations.migrate(createEntityDefinition(TaskV3Broken), { batchSize: 1 })).rejects.toThrow(MigrationFailedException);
    expect(store.storage.schema.of(NAME).migrating?.to).toBe(3);
    const older = createEntityDefinition(TaskV1);
    await expect(store.storage.migrations.migrate(older)).rejects.toThrow(StoreSchemaNewerException);
    await expect(store.storage.migrations.migrate(createEntityDefinition(TaskV2Broken))).rejects.toThrow(
      /mig-tasks are at schema version 3, newer than version 2/,
    );
  });

  it('stops, naming the record, when the steps give two records one unique value', async () => {
    store = await openStore(dir.path, [TaskV1]);
    // Records go in id order: the first one's new value is the second one's old.
    const first = await store.repo(TaskV1).create({ title: 'a', code: 'dup' });
    await store.repo(TaskV1).create({ title: 'b', code: 'DUP' });
    await store.close();
    store = undefined;
    const opening = openStore(dir.path, [TaskV3]);
    await expect(opening).rejects.toThrow(new RegExp(`migrating mig-tasks ${first.id} failed: .*unique index "code"`));
    // The same when the values would be unique once every record went through: each is checked in its turn.
    await expect(opening).rejects.toThrow("each record's new values must be free when its turn comes (records go in id order)");
  });
});
