import { jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsCluster, natsServerMissing } from '../../support/nats-cluster.util.js';
import { describeWhen } from '../../support/requirement.util.js';

const STREAM = 'nde_fencing';
const SUBJECT = 'nde.fencing.tx';
const ROUNDS = 40;

/** Whether a publish was refused for its expected last sequence (JetStream error 10071). */
function wrongLastSequence(error: unknown): boolean {
  return /wrong last sequence/i.test((error as Error).message);
}

/**
 * What replication (issue 17) rests on, checked against the nats-server CI runs: appends fenced
 * with the stream's global expected last sequence are serialised across writers on different
 * nodes of an R3 stream, and a retry with the same Nats-Msg-Id is stored once.
 */
describeWhen(natsServerMissing(), 'the JetStream fencing suite')('JetStream, three nodes, an R3 stream', () => {
  let cluster: NatsCluster;
  let connections: NatsConnection[];
  let writers: JetStreamClient[];

  beforeAll(async () => {
    cluster = await NatsCluster.start(3);
    // One connection per node, so the two writers reach the stream through different servers.
    connections = await Promise.all(cluster.nodes.map((node) => connect({ servers: node.url })));
    const manager = await jetstreamManager(connections[0]!);
    await manager.streams.add({ name: STREAM, subjects: [SUBJECT], num_replicas: 3, storage: StorageType.File, retention: RetentionPolicy.Limits });
    writers = connections.map((nc) => jetstream(nc));
  }, 60_000);

  afterAll(async () => {
    await Promise.all((connections ?? []).map((nc) => nc.close()));
    await cluster?.stop();
  });

  it('lets exactly one of two writers on different nodes append after the same expected last sequence, in every round', async () => {
    const manager = await jetstreamManager(connections[0]!);
    let last = (await manager.streams.info(STREAM)).state.last_seq;
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const attempts = await Promise.allSettled(
        [writers[1]!, writers[2]!].map((writer, i) => writer.publish(SUBJECT, `round ${round} writer ${i}`, { expect: { lastSequence: last } })),
      );
      const won = attempts.flatMap((attempt) => (attempt.status === 'fulfilled' ? [attempt.value.seq] : []));
      const refused = attempts.filter((attempt) => attempt.status === 'rejected' && wrongLastSequence(attempt.reason)).length;
      outcomes.push(`${won.length} won, ${refused} refused`);
      if (won.length === 1) last = won[0]!;
    }
    expect(outcomes).toEqual(Array.from({ length: ROUNDS }, () => '1 won, 1 refused'));
    expect((await manager.streams.info(STREAM)).state.last_seq).toBe(last);
  });

  it('stores a retried publish with the same message id once, answering the first seq', async () => {
    const first = await writers[0]!.publish(SUBJECT, 'once', { msgID: 'retry-1' });
    const retry = await writers[1]!.publish(SUBJECT, 'once', { msgID: 'retry-1' });
    expect(first.duplicate).toBe(false);
    expect(retry).toMatchObject({ duplicate: true, seq: first.seq });
  });
});
