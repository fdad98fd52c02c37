import { createCache } from 'cache-manager';
import request from 'supertest';
import { Cached, Entity, Field, getRepositoryToken, Historize, type EntityRepository } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { natsServerMissing } from '../../support/nats-cluster.util.js';
import { ReplicatedFleet } from '../../support/replicated-fleet.util.js';
import { describeWhen } from '../../support/requirement.util.js';
import type { TestApp } from '../../support/test-app.util.js';

@Entity('trimmed-notes')
@Cached({ ttl: 600_000 })
class Wide {
  @Field() @Historize('full') text!: string;
}

@Entity('trimmed-notes')
@Cached({ ttl: 600_000 })
class Narrow {
  @Field() @Historize({ versions: 1 }) text!: string;
}

@Entity('trimmed-notes')
@Cached({ ttl: 600_000 })
class Three {
  @Field() @Historize({ versions: 3 }) text!: string;
}

/**
 * README (Several machines, Rules; Caching): instances that trim history to a narrowed
 * `@Historize` policy as they start keep the same history and change mark, however far behind
 * each was; no history answer cached before a trim is served after it, a roll back included.
 */
describeWhen(natsServerMissing(), 'the replication suite')('history trims on replicated instances', () => {
  let fleet: ReplicatedFleet;
  beforeAll(async () => {
    fleet = await ReplicatedFleet.start();
  }, 60_000);
  afterAll(() => fleet?.close());
  const newDir = () => fleet.newDir();
  const start = (entity: Function, dir: { path: string }, stream: string, manager?: ReturnType<typeof createCache>) =>
    fleet.start([entity], dir, stream, manager && { cache: { manager } });
  const stop = (app: TestApp) => fleet.stop(app);
  const repo = <T extends object>(app: TestApp, entity: new () => T) => app.app.get<EntityRepository<T>>(getRepositoryToken(entity));
  const markOf = (app: TestApp) => {
    const storage = app.app.get(EntityStorage);
    return storage.changeMark(storage.definitionOf(Narrow));
  };

  it('gives both instances one change mark when the lagging one had nothing to trim yet', async () => {
    const [da, db] = [newDir(), newDir()];
    let a = await start(Wide, da, 'TRIMS_MARK');
    let b = await start(Wide, db, 'TRIMS_MARK');
    const note = await repo(a, Wide).create({ text: 'one' });
    await repo(b, Wide).waitForSeq(repo(a, Wide).appliedSeq!);
    await stop(a);
    await repo(b, Wide).update(note.id, { text: 'two' });
    await stop(b);

    b = await start(Narrow, db, 'TRIMS_MARK'); // trims 'one'
    a = await start(Narrow, da, 'TRIMS_MARK'); // one version only: nothing to trim, then catches up
    await repo(a, Narrow).waitForSeq(repo(b, Narrow).appliedSeq!);
    expect(await repo(a, Narrow).history(note.id)).toEqual(await repo(b, Narrow).history(note.id));
    expect(markOf(a)).toEqual(markOf(b));
  }, 90_000);

  it('serves no history cached before a trim after a roll back, the lagging instance included', async () => {
    const [da, db] = [newDir(), newDir()];
    const manager = createCache(); // a shared Redis
    let a = await start(Wide, da, 'TRIMS_CACHE', manager);
    const b = await start(Wide, db, 'TRIMS_CACHE', manager);
    const note = await repo(a, Wide).create({ text: 'one' });
    await repo(b, Wide).waitForSeq(repo(a, Wide).appliedSeq!);
    await stop(a);
    await repo(b, Wide).update(note.id, { text: 'two' });
    expect(JSON.stringify((await request(b.server()).get(`/trimmed-notes/${note.id}/history`).expect(200)).body)).toContain('"one"');
    await stop(b);

    await stop(await start(Narrow, db, 'TRIMS_CACHE', manager));
    a = await start(Narrow, da, 'TRIMS_CACHE', manager);
    await stop(a);
    a = await start(Wide, da, 'TRIMS_CACHE', manager); // roll back
    expect(await repo(a, Wide).history(note.id)).toMatchObject({ fields: { text: [{ value: 'two' }] } });
    const answered = await request(a.server()).get(`/trimmed-notes/${note.id}/history`).expect(200);
    expect(answered.body.fields.text.map((entry: { value: unknown }) => entry.value)).toEqual(['two']);
  }, 90_000);

  it('serves no history cached before a second trim that keeps more than the first, after a roll back', async () => {
    const dir = newDir();
    const manager = createCache();
    let app = await start(Wide, dir, 'TRIMS_AGAIN', manager);
    const note = await repo(app, Wide).create({ text: 'v0' });
    await repo(app, Wide).update(note.id, { text: 'v1' });
    await stop(app);
    await stop(await start(Narrow, dir, 'TRIMS_AGAIN', manager)); // keeps v1
    app = await start(Wide, dir, 'TRIMS_AGAIN', manager); // rolled back; history grows again
    for (let v = 2; v <= 5; v++) await repo(app, Wide).update(note.id, { text: `v${v}` });
    const read = async () =>
      (await request(app.server()).get(`/trimmed-notes/${note.id}/history`).expect(200)).body.fields.text.map((entry: { value: unknown }) => entry.value);
    expect(await read()).toEqual(['v5', 'v4', 'v3', 'v2', 'v1']);
    await stop(app);
    await stop(await start(Three, dir, 'TRIMS_AGAIN', manager)); // keeps v5, v4, v3
    app = await start(Wide, dir, 'TRIMS_AGAIN', manager);
    expect(await read()).toEqual(['v5', 'v4', 'v3']);
    await stop(app);
  }, 90_000);
});
