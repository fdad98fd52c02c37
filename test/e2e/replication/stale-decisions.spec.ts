import { Entity, Field, getRepositoryToken, type EntityRepository } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { NatsCluster, natsServerMissing } from '../../support/nats-cluster.util.js';
import { describeWhen } from '../../support/requirement.util.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('stale-things')
class Thing {
  @Field() title!: string;
}

/** What the follower of `app` applies, held back by `ms`: the instance lags its stream as a loaded one would. */
function lagging(app: TestApp, ms: number): void {
  const follower = (app.app.get(EntityStorage).replication as unknown as { follower: { target: { apply: (seq: number, data: Uint8Array) => Promise<void> } } })
    .follower;
  const apply = follower.target.apply;
  follower.target.apply = async (seq, data) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return apply(seq, data);
  };
}

/**
 * A write that changes nothing on an instance's own state appends nothing, so no failed append
 * tells it the stream moved on: it must not answer from a state behind the stream.
 */
describeWhen(natsServerMissing(), 'the replication suite')('writes that change nothing on an instance behind its stream', () => {
  let cluster: NatsCluster;
  let a: TestApp;
  let b: TestApp;
  let onA: EntityRepository<Thing>;
  let onB: EntityRepository<Thing>;

  beforeAll(async () => {
    cluster = await NatsCluster.start(3);
    const replication = { servers: cluster.servers, stream: 'STALE', replicas: 3, timeout: 10_000 };
    a = await createTestApp({ entities: [Thing], module: { replication } });
    b = await createTestApp({ entities: [Thing], module: { replication } });
    onA = a.app.get(getRepositoryToken(Thing));
    onB = b.app.get(getRepositoryToken(Thing));
    lagging(b, 150);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await cluster?.stop();
  });

  it('decides them again on what the stream holds: a replace of the old values is not lost', async () => {
    for (let round = 0; round < 3; round++) {
      const created = await onA.create({ title: 'x' });
      await onB.waitForSeq(onA.appliedSeq!);
      await onA.update(created.id, { title: 'y' });
      // On B's own state the record still reads 'x': this replace would change nothing there.
      const replaced = await onB.replace(created.id, { title: 'x' });
      expect(replaced).toMatchObject({ title: 'x', version: 3 });
      await onA.waitForSeq(onB.appliedSeq!);
      expect(await onA.findById(created.id)).toMatchObject({ title: 'x', version: 3 });
    }
  }, 60_000);

  it('fail a transaction that begins a write inside its callback, and only it, however writes are grouped', async () => {
    const first = onA.create({ title: 'first' });
    let inner: Promise<unknown> | undefined;
    // Queued behind the first write's append, with the next create: one replicated group.
    const nested = onA.transaction((tx) => {
      tx.create(Thing, { title: 'outer' });
      inner = onA.create({ title: 'inner' });
      return 'done';
    });
    const innocent = onA.create({ title: 'innocent' });
    const [firstDone, nestedDone, innocentDone] = await Promise.allSettled([first, nested, innocent]);
    expect([firstDone.status, nestedDone.status, innocentDone.status]).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((nestedDone as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
    await expect(inner).rejects.toThrow(TypeError);
    for (const title of ['outer', 'inner']) expect((await onA.find({ where: { title } })).items).toEqual([]);
    expect((await onA.find({ where: { title: 'innocent' } })).items).toHaveLength(1);
    expect((await a.app.get(EntityStorage).replication!.health()).problem).toBeUndefined();
  }, 60_000);

  it('and answer an expected version the stream holds, not a conflict', async () => {
    const created = await onA.create({ title: 'x' });
    await onB.waitForSeq(onA.appliedSeq!);
    await onA.update(created.id, { title: 'y' });
    await expect(onB.update(created.id, { title: 'z' }, { expectedVersion: 2 })).resolves.toMatchObject({ title: 'z', version: 3 });
  }, 60_000);

  it('and revert to a version the stream holds, which this instance has not applied yet', async () => {
    const created = await onA.create({ title: 'one' });
    await onB.waitForSeq(onA.appliedSeq!);
    await onA.update(created.id, { title: 'two' });
    await onA.update(created.id, { title: 'three' });
    await expect(onB.revert(created.id, 2)).resolves.toMatchObject({ title: 'two', version: 4 });
  }, 60_000);
});
