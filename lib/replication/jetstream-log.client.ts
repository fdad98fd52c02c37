import type { ConsumerNotification, JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { importOptional, missingDependency } from '../common/optional-dependency.util.js';
import type { ReplicationOptions } from '../common/replication-options.interface.js';

type Transport = typeof import('@nats-io/transport-node');
type JetStream = typeof import('@nats-io/jetstream');

export const DEFAULT_STREAM = 'ENTITIES';
const FOLLOW_EXPIRES = 5_000;
/** JetStream's answer to creating a stream another client created first with another configuration. */
const STREAM_NAME_IN_USE = 10058;
const DEFAULT_REPLICAS = 3;

/** The stream's messages in order as a consumer delivers them, and news of that consumer. */
export interface StreamMessages extends AsyncIterable<{ seq: number; data: Uint8Array }> {
  status(): AsyncIterable<ConsumerNotification>;
  stop(): void;
}

/** Another instance appended first: the stream's last message is not the one the write was decided after. */
export class StreamMovedOnError extends Error {}

/** NATS's own default API timeout, which `replication.timeout` defaults to as well. */
const DEFAULT_API_TIMEOUT = 5_000;
/** NATS's own default, for a connection that has not told its server's yet. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * The stream of replicated transactions on NATS JetStream: one subject, file storage, every
 * message appended only after the one its writer read last (the stream's expected last
 * sequence), so two instances never both append a decision taken on the same state.
 */
export class JetStreamLog {
  private constructor(
    private readonly connection: NatsConnection,
    private readonly client: JetStreamClient,
    private readonly manager: JetStreamManager,
    private readonly jetstream: JetStream,
    readonly stream: string,
    private readonly subject: string,
  ) {}

  static async connect(options: ReplicationOptions): Promise<JetStreamLog> {
    const transport = await importOptional<Transport>('@nats-io/transport-node');
    if (!transport) throw missingDependency('@nats-io/transport-node', 'replication');
    const jetstream = await importOptional<JetStream>('@nats-io/jetstream');
    if (!jetstream) throw missingDependency('@nats-io/jetstream', 'replication');
    const stream = options.stream ?? DEFAULT_STREAM;
    // Reconnects for ever: an instance cut off from NATS keeps serving reads and refuses writes until it is back.
    const connection = await transport.connect({ servers: options.servers, name: `entities ${stream}`, maxReconnectAttempts: -1 });
    try {
      // Making the stream may wait for its servers to elect a leader: NATS's own timeout, not the write's.
      const setup = await jetstream.jetstreamManager(connection);
      // Stream info (where the stream ends, health) answers within the write timeout, or fails as a write would.
      const manager = await jetstream.jetstreamManager(connection, { timeout: options.timeout ?? DEFAULT_API_TIMEOUT, checkAPI: false });
      const log = new JetStreamLog(connection, jetstream.jetstream(connection), manager, jetstream, stream, `entities.${stream}.tx`);
      await log.ensureStream(setup, options.replicas ?? DEFAULT_REPLICAS);
      return log;
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  /** The largest message the connected server takes, headers included (its `max_payload`). */
  get maxPayload(): number {
    return this.connection.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** The first and last sequence the stream holds now (first > last when it holds none). */
  async bounds(): Promise<{ first: number; last: number }> {
    const { state } = await this.manager.streams.info(this.stream);
    return { first: state.first_seq, last: state.last_seq };
  }

  /**
   * Appends `bytes` if the stream's last message is still `expectedLast`; resolves to its
   * sequence once the stream's servers stored it. `StreamMovedOnError` when another message
   * came first; any other error leaves it unknown whether the message was stored.
   */
  async append(bytes: Uint8Array, expectedLast: number, msgID: string, timeout: number): Promise<number> {
    try {
      const ack = await this.client.publish(this.subject, bytes, { expect: { lastSequence: expectedLast }, msgID, timeout });
      return ack.seq;
    } catch (error) {
      if (this.isApiError(error, this.jetstream.JetStreamApiCodes.StreamWrongLastSequence)) throw new StreamMovedOnError((error as Error).message);
      throw error;
    }
  }

  /** The bytes of the message at `seq`, or `undefined` when the stream does not hold it. */
  async messageAt(seq: number): Promise<Uint8Array | undefined> {
    return (await this.manager.streams.getMessage(this.stream, { seq }))?.data ?? undefined;
  }

  /**
   * Messages from `seq` on, in order, for as long as the log is open; an ordered consumer
   * recreates itself after a disconnect. `stop()` also deletes the consumer from the server,
   * which would otherwise keep it for minutes after its last pull.
   */
  async follow(seq: number): Promise<StreamMessages> {
    const consumer = await this.client.consumers.get(this.stream, { deliver_policy: this.jetstream.DeliverPolicy.StartSequence, opt_start_seq: seq });
    // Pulls that expire after 5 s rather than 30: heartbeats come every 2.5 s, so after the server
    // it pulled from dies the consumer notices and pulls elsewhere within seconds, not half a minute.
    const messages = await consumer.consume({ expires: FOLLOW_EXPIRES });
    return {
      [Symbol.asyncIterator]: () => messages[Symbol.asyncIterator](),
      status: () => messages.status(),
      stop: () => {
        messages.stop();
        // Best effort: a consumer its server lost, or a connection closing, takes it with it.
        consumer.delete().catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private isApiError(error: unknown, code: number): boolean {
    return error instanceof this.jetstream.JetStreamApiError && error.code === code;
  }

  /** Creates the stream unless it exists; several instances starting at once may race to create it. */
  private async ensureStream(setup: JetStreamManager, replicas: number): Promise<void> {
    try {
      await this.checkStream(setup);
    } catch (error) {
      if (!this.isApiError(error, this.jetstream.JetStreamApiCodes.StreamNotFound)) throw error;
      try {
        await setup.streams.add({
          name: this.stream,
          subjects: [this.subject],
          storage: this.jetstream.StorageType.File,
          retention: this.jetstream.RetentionPolicy.Limits,
          num_replicas: replicas,
        });
      } catch (raced) {
        if (!this.isApiError(raced, STREAM_NAME_IN_USE)) throw raced;
        await this.checkStream(setup);
      }
    }
  }

  private async checkStream(setup: JetStreamManager): Promise<void> {
    const info = await setup.streams.info(this.stream);
    if (!info.config.subjects?.includes(this.subject)) throw new Error(`the NATS stream ${this.stream} exists but does not take ${this.subject}`);
  }
}
