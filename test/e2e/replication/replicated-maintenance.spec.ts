import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import request from 'supertest';
import { EntitiesMaintenance, Entity, Field } from '../../../lib/index.js';
import { JetStreamLog } from '../../../lib/replication/jetstream-log.client.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { NatsCluster, natsServerMissing } from '../../support/nats-cluster.util.js';
import { describeWhen } from '../../support/requirement.util.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('maintained-notes')
class Note {
  @Field() title!: string;
}

/**
 * Maintenance drops events and idempotency results: a change like any other, which every
 * instance applies at the same place in the stream, so their logs and answers stay alike.
 */
describeWhen(natsServerMissing(), 'the replication suite')('maintenance of a replicated store', () => {
  let cluster: NatsCluster;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    cluster = await NatsCluster.start(1);
    const module = { replication: { servers: cluster.servers, stream: 'MAINTAINED', replicas: 1, timeout: 10_000 }, eventRetention: { maxEvents: 1 } };
    a = await createTestApp({ entities: [Note], module });
    b = await createTestApp({ entities: [Note], module });
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await cluster?.stop();
  });

  const seqsOf = (app: TestApp) =>
    app.app
      .get(EntitiesMaintenance)
      .events(0, 100)
      .map((event) => event.seq);
  const caughtUp = (app: TestApp, seq: string | string[] | undefined) =>
    request(app.server()).get('/maintained-notes').set('X-Entities-Min-Seq', String(seq)).expect(200);

  it('compacts every instance’s log alike, and appends nothing when there is nothing to drop', async () => {
    const created = await request(a.server()).post('/maintained-notes').send({ title: 'one' }).expect(201);
    await request(a.server()).patch(`/maintained-notes/${created.body.id}`).send({ title: 'two' }).expect(200);
    const last = await request(a.server()).patch(`/maintained-notes/${created.body.id}`).send({ title: 'three' }).expect(200);
    await caughtUp(b, last.headers['x-entities-seq']);

    await expect(a.app.get(EntitiesMaintenance).runMaintenance()).resolves.toMatchObject({ events: 2 });
    const marker = await request(b.server()).post('/maintained-notes').send({ title: 'marker' }).expect(201);
    await caughtUp(a, marker.headers['x-entities-seq']);
    expect(seqsOf(a)).toEqual(seqsOf(b));
    expect(seqsOf(a)).not.toContain(1);
    const pastOnA = await request(a.server()).get(`/maintained-notes/${created.body.id}?version=1`);
    const pastOnB = await request(b.server()).get(`/maintained-notes/${created.body.id}?version=1`);
    expect([pastOnA.status, pastOnB.status]).toEqual([410, 410]);

    await expect(b.app.get(EntitiesMaintenance).runMaintenance()).resolves.toMatchObject({ events: 1 });
    await expect(b.app.get(EntitiesMaintenance).runMaintenance()).resolves.toEqual({ idempotencyKeys: 0, events: 0 });
    const after = await request(a.server()).post('/maintained-notes').send({ title: 'after' }).expect(201);
    // After `marker`'s message: one for the run that dropped its event, one for this create, none for the empty run.
    expect(Number(after.headers['x-entities-seq'])).toBe(Number(marker.headers['x-entities-seq']) + 2);
  }, 60_000);

  it('starts and serves reads when the stream takes no writes, leaving what is due to the scheduled runs', async () => {
    const dir = makeTempDir();
    const module = { replication: { servers: cluster.servers, stream: 'MAINTAINED_LATER', replicas: 1, timeout: 2_000 }, eventRetention: { maxEvents: 1 } };
    try {
      let first = await createTestApp({ entities: [Note], module, path: dir.path });
      const created = await request(first.server()).post('/maintained-notes').send({ title: 'one' }).expect(201);
      await request(first.server()).patch(`/maintained-notes/${created.body.id}`).send({ title: 'two' }).expect(200);
      await first.close();
      // As a stream without quorum answers: it tells where it ends, and takes no message.
      const append = jest.spyOn(JetStreamLog.prototype, 'append').mockRejectedValue(new Error('no quorum'));
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      try {
        first = await createTestApp({ entities: [Note], module, path: dir.path });
        expect(warn.mock.calls.map(([message]) => String(message))).toContainEqual(expect.stringMatching(/maintenance at start-up failed.*no quorum/));
        await request(first.server()).get(`/maintained-notes/${created.body.id}`).expect(200);
      } finally {
        append.mockRestore();
        warn.mockRestore();
      }
      await expect(first.app.get(EntitiesMaintenance).runMaintenance()).resolves.toMatchObject({ events: 1 });
      await first.close();
    } finally {
      dir.remove();
    }
  }, 60_000);
});
