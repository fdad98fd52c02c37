import { jetstreamManager } from '@nats-io/jetstream';
import request from 'supertest';
import {
  Audited,
  ChangeTooLargeException,
  Entity,
  Field,
  getRepositoryToken,
  Historize,
  Index,
  ReplicationDivergedException,
  type EntityRepository,
} from '../../../lib/index.js';
import { StreamMovedOnError } from '../../../lib/replication/jetstream-log.client.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { StorageFailureException } from '../../../lib/storage/storage-failure.exception.js';
import { NatsCluster, natsServerMissing } from '../../support/nats-cluster.util.js';
import { describeWhen } from '../../support/requirement.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('trouble-things')
@Audited()
class Thing {
  @Field() title!: string;
}

@Entity('trouble-items')
class ItemV1 {
  @Field() code!: string;
}

@Entity('trouble-items')
class ItemV2 {
  @Field() @Index() code!: string;
}

@Entity('trouble-items')
class ItemWithHistory {
  @Field() @Historize('full') code!: string;
}

interface PatchableLog {
  append: (...args: unknown[]) => Promise<number>;
  bounds: () => Promise<{ first: number; last: number }>;
}

const logOf = (app: TestApp) => (app.app.get(EntityStorage).replication as unknown as { log: PatchableLog }).log;

/** What a stream does to an instance beyond losing its quorum: made again, too large a write, an answer that fails. */
describeWhen(natsServerMissing(), 'the replication suite')('a replicated instance and troubles of its stream', () => {
  let nats: NatsCluster;
  const open = new Set<TestApp>();
  const start = async (stream: string, entity: Function, options: { path?: string; timeout?: number } = {}) => {
    const app = await createTestApp({
      entities: [entity as never],
      ...(options.path !== undefined && { path: options.path }),
      module: { replication: { servers: nats.servers, stream, replicas: 1, timeout: options.timeout ?? 2_000 } },
    });
    open.add(app);
    return app;
  };
  const stop = async (app: TestApp) => {
    open.delete(app);
    await app.close();
  };

  beforeAll(async () => {
    nats = await NatsCluster.start(1);
  }, 60_000);
  afterAll(async () => {
    for (const app of open) await app.close();
    await nats?.stop();
  });

  it('stops, and fails writes within a few timeouts, when its stream was deleted and made again empty', async () => {
    const app = await start('TROUBLE_REMADE', Thing, { timeout: 1_000 });
    const things = app.app.get<EntityRepository<Thing>>(getRepositoryToken(Thing));
    for (let i = 0; i < 3; i++) await things.create({ title: `t${i}` });
    const nc = await nats.connect();
    const manager = await jetstreamManager(nc);
    const { config } = await manager.streams.info('TROUBLE_REMADE');
    await manager.streams.delete('TROUBLE_REMADE');
    await manager.streams.add({ name: config.name, subjects: config.subjects, storage: config.storage, num_replicas: 1 });
    await nc.close();

    const started = Date.now();
    await expect(things.create({ title: 'after' })).rejects.toThrow(ReplicationDivergedException);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(things.create({ title: 'again' })).rejects.toThrow(/ends at message 0, before message 3/);
    const health = await app.app.get(EntityStorage).replication!.health();
    expect(health.problem).toMatch(/ends at message 0, before message 3/);
    await stop(app);
  }, 60_000);

  it('reports in health a stream that holds less than the instance applied, before any write', async () => {
    const app = await start('TROUBLE_SHORT', Thing);
    await app.app.get<EntityRepository<Thing>>(getRepositoryToken(Thing)).create({ title: 'one' });
    const nc = await nats.connect();
    const manager = await jetstreamManager(nc);
    const { config } = await manager.streams.info('TROUBLE_SHORT');
    await manager.streams.delete('TROUBLE_SHORT');
    await manager.streams.add({ name: config.name, subjects: config.subjects, storage: config.storage, num_replicas: 1 });
    await nc.close();

    const health = await app.app.get(EntityStorage).replication!.health();
    expect(health).toEqual({ details: { appliedSeq: 1, streamLastSeq: 0 }, problem: expect.stringMatching(/ends at message 0, before message 1/) });
    await stop(app);
  }, 60_000);

  it("goes on when the stream's end arrives after its follower applied further", async () => {
    const a = await start('TROUBLE_RACE', Thing);
    const b = await start('TROUBLE_RACE', Thing);
    const onA = a.app.get<EntityRepository<Thing>>(getRepositoryToken(Thing));
    const onB = b.app.get<EntityRepository<Thing>>(getRepositoryToken(Thing));
    const record = await onA.create({ title: 'one' });
    await onB.waitForSeq(onA.appliedSeq!);
    const log = logOf(a);
    const bounds = log.bounds.bind(log);
    let asked = 0;
    // The stream's answer is on its way while B appends and A's follower applies B's message.
    log.bounds = async () => {
      asked++;
      const answer = await bounds();
      log.bounds = bounds;
      await onB.create({ title: 'two' });
      await onA.waitForSeq(onB.appliedSeq!);
      return answer;
    };
    // A write that changes nothing asks where the stream ends.
    await expect(onA.update(record.id, { title: 'one' })).resolves.toEqual(expect.objectContaining({ title: 'one' }));
    expect(asked).toBe(1);
    expect((await a.app.get(EntityStorage).replication!.health()).problem).toBeUndefined();
    await stop(b);
    await stop(a);
  }, 60_000);

  it('refuses at once, with 413, a write larger than the servers take, and stays healthy', async () => {
    const app = await start('TROUBLE_LARGE', Thing, { timeout: 3_000 });
    const started = Date.now();
    // The record goes in the message twice: in its event and in the result kept for the key.
    const answer = await request(app.server())
      .post('/trouble-things')
      .set('Idempotency-Key', 'large')
      .send({ title: 'x'.repeat(700_000) });
    expect(answer.status).toBe(413);
    expect(answer.body.message).toMatch(/more than the \d+ the NATS servers take in one message \(max_payload\)/);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await app.app.get(EntityStorage).replication!.health()).problem).toBeUndefined();
    await expect(app.app.get<EntityRepository<Thing>>(getRepositoryToken(Thing)).create({ title: 'y'.repeat(1_100_000) })).rejects.toThrow(
      ChangeTooLargeException,
    );
    expect((await request(app.server()).post('/trouble-things').send({ title: 'small' })).status).toBe(201);
    await stop(app);
  }, 60_000);

  it('answers 503 when, after losing a race, the stream does not answer where it ends', async () => {
    const app = await start('TROUBLE_CATCHUP', Thing);
    const log = logOf(app);
    const { append, bounds } = log;
    log.append = async () => {
      log.append = append;
      throw new StreamMovedOnError('wrong last sequence: 7');
    };
    log.bounds = async () => {
      log.bounds = bounds;
      throw new Error('TIMEOUT');
    };
    const answer = await request(app.server()).post('/trouble-things').send({ title: 'x' });
    expect(answer.status).toBe(503);
    expect(answer.body.message).toMatch(/could not be reached \(TIMEOUT\); nothing was stored/);
    await stop(app);
  }, 60_000);

  it('answers a write in flight when it closes, and refuses writes after', async () => {
    const app = await start('TROUBLE_CLOSE', Thing, { timeout: 10_000 });
    const things = app.app.get<EntityRepository<Thing>>(getRepositoryToken(Thing));
    const log = logOf(app);
    // An append that gets no answer, as while the stream's leader is away.
    log.append = () => new Promise((_, reject) => setTimeout(() => reject(new Error('TIMEOUT')), 50));
    const inFlight = things.create({ title: 'in flight' }).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await stop(app);
    const answer = await inFlight;
    expect(answer).toBeInstanceOf(StorageFailureException);
    expect((answer as Error).message).toMatch(/replication closed before the stream confirmed the write \(TIMEOUT\); it may or may not be stored/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(things.create({ title: 'after' })).rejects.toThrow(/replication is closing: nothing was stored|not open/);
  }, 60_000);

  it('tells a write ordered in the stream that this instance could not apply yet that it is stored', async () => {
    const app = await start('TROUBLE_APPLY', Thing);
    const store = (app.app.get(EntityStorage).replication as unknown as { store: { applyReplicated: (...args: unknown[]) => Promise<boolean> } }).store;
    const applyReplicated = store.applyReplicated;
    // Only the writer's own apply fails (the follower's passes options): the follower applies the message later.
    store.applyReplicated = async (...args) => {
      if (args[2] !== undefined) return applyReplicated(...args);
      store.applyReplicated = applyReplicated;
      throw new StorageFailureException('disk full', true);
    };
    const things = app.app.get<EntityRepository<Thing>>(getRepositoryToken(Thing));
    await expect(things.create({ title: 'ordered' })).rejects.toThrow(
      /is message 1 of the replication stream, but this instance could not apply it yet \(disk full\)/,
    );
    await things.waitForSeq(1);
    expect((await things.find({})).items.map((thing) => thing.title)).toEqual(['ordered']);
    await stop(app);
  }, 60_000);

  it('refuses to start an instance stopped before the last writes of the old definitions when these apply otherwise under the new', async () => {
    const dirs = [makeTempDir(), makeTempDir()];
    try {
      const a = await start('TROUBLE_WIDER', ItemV1, { path: dirs[0]!.path });
      const b = await start('TROUBLE_WIDER', ItemV1, { path: dirs[1]!.path });
      const onA = a.app.get<EntityRepository<ItemV1>>(getRepositoryToken(ItemV1));
      const created = await onA.create({ code: 'x1' });
      await b.app.get<EntityRepository<ItemV1>>(getRepositoryToken(ItemV1)).waitForSeq(onA.appliedSeq!);
      await stop(b);
      await onA.update(created.id, { code: 'x2' });
      await stop(a);

      // Applied under the new definitions, the update would keep history the others never kept.
      await stop(await start('TROUBLE_WIDER', ItemWithHistory, { path: dirs[0]!.path }));
      await expect(start('TROUBLE_WIDER', ItemWithHistory, { path: dirs[1]!.path })).rejects.toThrow(
        /message 2 was decided by an instance whose entities are stored another way/,
      );
    } finally {
      for (const dir of dirs) dir.remove();
    }
  }, 90_000);

  it('starts an instance stopped before the last writes of the old definitions with the new ones', async () => {
    const dirs = [makeTempDir(), makeTempDir()];
    try {
      const a = await start('TROUBLE_DEFS', ItemV1, { path: dirs[0]!.path });
      const b = await start('TROUBLE_DEFS', ItemV1, { path: dirs[1]!.path });
      const onA = a.app.get<EntityRepository<ItemV1>>(getRepositoryToken(ItemV1));
      await onA.create({ code: 'x1' });
      await b.app.get<EntityRepository<ItemV1>>(getRepositoryToken(ItemV1)).waitForSeq(onA.appliedSeq!);
      await stop(b);
      await onA.create({ code: 'x2' });
      await stop(a);

      const a2 = await start('TROUBLE_DEFS', ItemV2, { path: dirs[0]!.path });
      const b2 = await start('TROUBLE_DEFS', ItemV2, { path: dirs[1]!.path });
      const onB = b2.app.get<EntityRepository<ItemV2>>(getRepositoryToken(ItemV2));
      expect((await onB.find({ where: { code: 'x2' } })).items).toHaveLength(1);
      await a2.app.get<EntityRepository<ItemV2>>(getRepositoryToken(ItemV2)).create({ code: 'x3' });
      await onB.waitForSeq(3);
      expect((await onB.find({ where: { code: 'x3' } })).items).toHaveLength(1);
      expect(b2.app.get(EntityStorage).verify().problems).toEqual([]);
      await stop(b2);
      await stop(a2);
    } finally {
      for (const dir of dirs) dir.remove();
    }
  }, 90_000);
});
