import { createCache } from 'cache-manager';
import request from 'supertest';
import { Audited, AuditService, Cached, EntitiesMaintenance, Entity, Field, getRepositoryToken, Historize, type EntityRepository } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { natsServerMissing } from '../../support/nats-cluster.util.js';
import { ReplicatedFleet, storeBytes } from '../../support/replicated-fleet.util.js';
import { describeWhen } from '../../support/requirement.util.js';
import type { TestApp } from '../../support/test-app.util.js';

@Entity('rolling-cases')
@Audited()
class CaseV1 {
  @Field() title!: string;
  @Field({ required: false }) secret?: string;
}

/** The next release hides `secret`: audit entries written under it mask the field. */
@Entity('rolling-cases')
@Audited()
class CaseV2 {
  @Field() title!: string;
  @Field({ required: false, hidden: true }) secret?: string;
}

/** Another next release adds a field. */
@Entity('rolling-cases')
@Audited()
class CaseWithNote {
  @Field() title!: string;
  @Field({ required: false }) secret?: string;
  @Field({ required: false }) note?: string;
}

/** Another declares the same fields in another order. */
@Entity('rolling-cases')
@Audited()
class CaseReordered {
  @Field({ required: false }) secret?: string;
  @Field() title!: string;
}

@Entity('rolling-notes')
class NoteV1 {
  @Field() @Historize('full') text!: string;
}

/** The next release keeps the newest value only. */
@Entity('rolling-notes')
class NoteV2 {
  @Field() @Historize({ versions: 1 }) text!: string;
}

@Entity('rolling-cached-notes')
@Cached({ ttl: 600_000 })
class CachedNoteWide {
  @Field() @Historize('full') text!: string;
}

@Entity('rolling-cached-notes')
@Cached({ ttl: 600_000 })
class CachedNoteNarrow {
  @Field() @Historize({ versions: 1 }) text!: string;
}

@Entity('rolling-kept')
class Kept {
  @Field() title!: string;
}

/** An entity the next release no longer registers. */
@Entity('rolling-dropped')
class Dropped {
  @Field() title!: string;
}

/**
 * README (Several machines, Rules): an instance that stopped before the others took their last
 * writes applies them as it starts with the new code only when they apply alike under both;
 * otherwise it refuses, naming the remedy (start it once with the old code). Instances that
 * start with the same code at the same point stay equal byte for byte.
 */
describeWhen(natsServerMissing(), 'the replication suite')('a release rolled out to replicated instances', () => {
  let fleet: ReplicatedFleet;
  beforeAll(async () => {
    fleet = await ReplicatedFleet.start();
  }, 60_000);
  afterAll(() => fleet?.close());
  const newDir = () => fleet.newDir();
  const start = (entities: Function[], dir: { path: string }, stream: string) => fleet.start(entities, dir, stream);
  const stop = (app: TestApp) => fleet.stop(app);
  const repo = <T extends object>(app: TestApp, entity: new () => T) => app.app.get<EntityRepository<T>>(getRepositoryToken(entity));

  it('refuses to write other audit entries than the others for a field hidden since, and catches up once with the old code', async () => {
    const [da, db] = [newDir(), newDir()];
    let a = await start([CaseV1], da, 'ROLLING_HIDDEN');
    let b = await start([CaseV1], db, 'ROLLING_HIDDEN');
    const created = await repo(a, CaseV1).create({ title: 't', secret: 'before' });
    await repo(b, CaseV1).waitForSeq(repo(a, CaseV1).appliedSeq!);
    await stop(a);
    await repo(b, CaseV1).update(created.id, { secret: 'after' });
    await stop(b);

    b = await start([CaseV2], db, 'ROLLING_HIDDEN');
    await expect(start([CaseV2], da, 'ROLLING_HIDDEN')).rejects.toThrow(/once with the old code/);
    a = await start([CaseV1], da, 'ROLLING_HIDDEN');
    await repo(a, CaseV1).waitForSeq(repo(b, CaseV2).appliedSeq!);
    await stop(a);
    a = await start([CaseV2], da, 'ROLLING_HIDDEN');

    expect(await a.app.get(AuditService).forRecord('rolling-cases', created.id)).toEqual(await b.app.get(AuditService).forRecord('rolling-cases', created.id));
    expect(await storeBytes(a, ['_audit'])).toEqual(await storeBytes(b, ['_audit']));
    for (const app of [a, b]) expect(app.app.get(EntitiesMaintenance).verify().problems).toEqual([]);
  }, 90_000);

  it.each([
    ['adds a field (records may hold a value of one declared before and removed since)', CaseWithNote, 'ROLLING_ADDED'],
    ['reorders the fields (entries list them in order)', CaseReordered, 'ROLLING_REORDERED'],
  ])(
    'refuses a backlog under a release that %s to an audited entity',
    async (_, release, stream) => {
      const [da, db] = [newDir(), newDir()];
      const a = await start([CaseV1], da, stream);
      let b = await start([CaseV1], db, stream);
      const created = await repo(a, CaseV1).create({ title: 't', secret: 'before' });
      await repo(b, CaseV1).waitForSeq(repo(a, CaseV1).appliedSeq!);
      await stop(a);
      await repo(b, CaseV1).update(created.id, { secret: 'after' });
      await stop(b);

      b = await start([release], db, stream);
      await expect(start([release], da, stream)).rejects.toThrow(/once with the old code/);
      await stop(b);
    },
    90_000,
  );

  it('leaves instances that trim history to a narrowed policy at one change mark, one of them lagging', async () => {
    const [da, db] = [newDir(), newDir()];
    let a = await start([NoteV1], da, 'ROLLING_TRIM');
    let b = await start([NoteV1], db, 'ROLLING_TRIM');
    const note = await repo(a, NoteV1).create({ text: 'one' });
    await repo(a, NoteV1).update(note.id, { text: 'two' });
    await repo(b, NoteV1).waitForSeq(repo(a, NoteV1).appliedSeq!);
    await stop(a);
    await repo(b, NoteV1).update(note.id, { text: 'three' });
    await stop(b);

    b = await start([NoteV2], db, 'ROLLING_TRIM');
    a = await start([NoteV2], da, 'ROLLING_TRIM');
    await repo(a, NoteV2).waitForSeq(repo(b, NoteV2).appliedSeq!);
    const markOf = (app: TestApp) => {
      const storage = app.app.get(EntityStorage);
      return storage.changeMark(storage.definitionOf(NoteV2));
    };
    expect(await repo(a, NoteV2).history(note.id)).toEqual(await repo(b, NoteV2).history(note.id));
    expect(markOf(a)).toEqual(markOf(b));
    expect(markOf(a)).toMatchObject({ count: 3, trims: 1 });
  }, 90_000);

  it('answers no history a shared cache held from before a trim, after a roll back to the wider policy', async () => {
    const dir = newDir();
    // Stands for a shared Redis, which outlives the instances.
    const manager = createCache();
    const startCached = (entity: Function) => fleet.start([entity], dir, 'ROLLING_CACHED', { cache: { manager } });
    let app = await startCached(CachedNoteWide);
    const note = await repo(app, CachedNoteWide).create({ text: 'one' });
    await repo(app, CachedNoteWide).update(note.id, { text: 'two' });
    expect(JSON.stringify((await request(app.server()).get(`/rolling-cached-notes/${note.id}/history`).expect(200)).body)).toContain('"one"');
    await stop(app);
    await stop(await startCached(CachedNoteNarrow));
    app = await startCached(CachedNoteWide);
    const answered = await request(app.server()).get(`/rolling-cached-notes/${note.id}/history`).expect(200);
    expect(answered.body.fields.text.map((entry: { value: unknown }) => entry.value)).toEqual(['two']);
    await stop(app);
  }, 90_000);

  it('refuses, naming the remedy, a backlog write to an entity the new code dropped', async () => {
    const [da, db] = [newDir(), newDir()];
    const a = await start([Kept, Dropped], da, 'ROLLING_DROPPED');
    let b = await start([Kept, Dropped], db, 'ROLLING_DROPPED');
    await repo(a, Kept).create({ title: 'k' });
    await repo(b, Kept).waitForSeq(repo(a, Kept).appliedSeq!);
    await stop(a);
    await repo(b, Dropped).create({ title: 'd' });
    await stop(b);

    b = await start([Kept], db, 'ROLLING_DROPPED');
    await expect(start([Kept], da, 'ROLLING_DROPPED')).rejects.toThrow(/unknown entity "rolling-dropped".*start this instance once with the old code/);
    await stop(b);
  }, 90_000);
});
