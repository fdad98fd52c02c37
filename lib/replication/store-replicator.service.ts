import type { ReplicationHealth } from '../common/health-options.interface.js';
import { EntitiesLogger } from '../common/entities.logger.js';
import type { ReplicationOptions } from '../common/replication-options.interface.js';
import { ReplicationDivergedException } from '../storage/replication-diverged.exception.js';
import { StorageFailureException } from '../storage/storage-failure.exception.js';
import { encodeMessage, MESSAGE_FORMAT } from '../storage/transaction-message.util.js';
import { ulidFactory } from '../storage/ulid.util.js';
import type { SequencedStore, WriteSequencer } from '../storage/write-sequencer.interface.js';
import type { WriteTransaction } from '../storage/write-transaction.store.js';
import { ChangeTooLargeException } from './change-too-large.exception.js';
import { JetStreamLog } from './jetstream-log.client.js';
import { StreamAppender } from './stream-appender.util.js';
import { checkReplicationOptions } from './replication-options.util.js';
import { dropWaiters, releaseWaiters, waitForSeq, type SeqWaiter } from './seq-waiters.util.js';
import { StreamFollower } from './stream-follower.service.js';
import { shorterStream, streamHealth } from './stream-health.util.js';
import { adoptStream, checkFollowable, unreplicatedChanges } from './stream-join.util.js';

const DEFAULT_TIMEOUT = 5_000;
/** Writes sent in one message at most. */
const MAX_GROUP = 100;
/**
 * Bytes above which a message of several writes is split: NATS refuses a message larger than
 * its max_payload, 1 MiB unless the servers set another.
 */
const GROUP_BYTES = 256 * 1024;
/** Room left in `max_payload` for a message's headers (its id, the expected last sequence). */
const HEADER_BYTES = 1024;
const nextOrigin = ulidFactory();

/** A write waiting for its turn in a message. */
interface QueuedWrite {
  fn: (tx: WriteTransaction) => unknown;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Keeps this instance's store equal to every other instance's through one JetStream stream.
 *
 * Every change of the store is a message of the stream, applied in the stream's order by every
 * instance, this one included, through the store's one applier. A write is decided on the
 * state after the last message applied (seq S), appended only if the stream's last message is
 * still S, applied, and only then answered; if another instance appended first, this instance
 * catches up and decides again, so a check (a version, a unique value, an idempotency key, a
 * grant) and the write it guards are never split by another instance's write. The writes that
 * queue up while a message is on its way go together in the next one, decided in turn; but
 * messages of one instance go one at a time: a second message expecting S + 1 could follow a
 * foreign S + 1 and be stored on a state it was never checked against.
 */
export class StoreReplicator implements WriteSequencer {
  private readonly logger = new EntitiesLogger('EntitiesReplication');
  /** Tells this instance's messages apart from the others'; new at every start. */
  private readonly origin = nextOrigin();
  private readonly timeout: number;
  private store?: SequencedStore;
  private log?: JetStreamLog;
  private appender?: StreamAppender;
  private follower?: StreamFollower;
  private readonly queue: QueuedWrite[] = [];
  private pumping = false;
  private applied = 0;
  private readonly waiters = new Set<SeqWaiter>();
  /** Why this instance stopped following the stream; it resumes only once the store is opened again. */
  private failure?: StorageFailureException;
  /** Set by `close`: writes are refused from then on. */
  private closing?: StorageFailureException;

  constructor(private readonly options: ReplicationOptions) {
    checkReplicationOptions(options);
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT;
  }

  /** The seq of the last message this instance applied: every write answered before it is visible here. */
  get appliedSeq(): number {
    return this.applied;
  }

  async start(store: SequencedStore): Promise<void> {
    this.store = store;
    this.log = await JetStreamLog.connect(this.options);
    this.appender = new StreamAppender(this.log, this.origin, this.timeout);
    // A store opened again (an init retried after a failed one) follows the stream afresh, through the new connection.
    this.closing = undefined;
    this.failure = undefined;
    try {
      await this.follow(store, this.log);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Checks that the store can follow the stream from where it is, then follows it until caught up. */
  private async follow(store: SequencedStore, log: JetStreamLog): Promise<void> {
    if (store.position().seq === 0 && store.hasLocalChanges()) {
      if (!this.options.adoptLocalStore) throw unreplicatedChanges(log);
      await adoptStream(store, log, this.origin, (bytes, last, msgID) => this.appender!.append(bytes, last, msgID));
      this.logger.log(`this store's data starts stream ${log.stream} (message 1); start the other instances from a backup of it`);
    }
    const position = store.position();
    const { first, last } = await log.bounds();
    checkFollowable(position.seq, first, last, log);
    this.applied = position.seq;
    this.follower = new StreamFollower(
      log,
      {
        appliedSeq: () => this.applied,
        apply: async (seq, data) => {
          await store.applyReplicated(seq, data, { backlog: seq <= last });
          this.advance(seq);
        },
        failed: (error) => this.fail(store, error),
      },
      this.logger,
    );
    await this.follower.start();
    // However long the backlog a backup brings takes to apply: start-up is done once it is.
    await this.waitFor(last, Number.POSITIVE_INFINITY);
    this.logger.log(`following stream ${log.stream} from message ${position.seq + 1}; caught up at ${this.applied}`);
  }

  write<R>(fn: (tx: WriteTransaction) => R): Promise<R> {
    if (this.closing) return Promise.reject(this.closing);
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (result: unknown) => void, reject });
      void this.pump();
    });
  }

  /** Sends the queued writes, as many as wait (up to a group's bounds) in each message, one message at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, MAX_GROUP);
        try {
          await this.sequence(group);
        } catch (error) {
          for (const write of group) write.reject(error);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Resolves once this instance has applied the message at `seq`; fails with a
   * `StorageFailureException` (503) if it has not within `timeout` ms, or once it stopped.
   */
  waitFor(seq: number, timeout = this.timeout): Promise<void> {
    if (this.applied >= seq) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return waitForSeq(this.waiters, seq, timeout, this);
  }

  /**
   * Whether this instance can take writes now: it still follows the stream, and the stream
   * answers within the write timeout. A stream that lost its quorum has no leader to answer,
   * so the check fails as writes would (503), while reads go on.
   */
  async health(): Promise<{ details: ReplicationHealth; problem?: string }> {
    const details: ReplicationHealth = { appliedSeq: this.applied };
    if (this.failure) return { details, problem: `replication stopped: ${this.failure.message}` };
    if (!this.log) return { details, problem: 'replication is not connected' };
    return streamHealth(details, this.log, this.appender?.unconfirmed, this.timeout);
  }

  async close(): Promise<void> {
    this.closing = new StorageFailureException('replication is closing: nothing was stored', false);
    for (const write of this.queue.splice(0)) write.reject(this.closing);
    if (this.appender) this.appender.closed = true;
    await this.follower?.close();
    // Nothing more will be applied here.
    dropWaiters(this.waiters, new StorageFailureException('replication is closing', false));
    await this.log?.close();
    this.log = undefined;
  }

  /**
   * Decides `group` in turn on this instance's state, appends what they change as one message and
   * applies it, then answers each write; a write that threw is answered with its error alone.
   */
  private async sequence(group: QueuedWrite[]): Promise<void> {
    const store = this.requireStore();
    // Each round waits on the stream, bounded by `timeout`; losing the race round after round
    // to busier instances must still end in an answer.
    const deadline = Date.now() + 3 * this.timeout;
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.closing) throw this.closing;
      if (Date.now() > deadline) {
        throw new StorageFailureException(`the write could not be ordered in the replication stream within ${3 * this.timeout} ms; nothing was stored`, false);
      }
      const decided = store.decide(group.map((write) => write.fn));
      const answer = () => decided.outcomes.forEach((outcome, i) => ('error' in outcome ? group[i]!.reject(outcome.error) : group[i]!.resolve(outcome.result)));
      if (decided.changes.length === 0) {
        // Nothing to append, so no append can fail on a stream that moved on: an answer decided
        // on a state behind the stream (a no-op, a version conflict, a missing record) would be
        // stale. Decide again once this instance has what the stream holds.
        const applied = this.applied;
        const last = await this.appender!.streamLast();
        this.refuseShorterStream(store, last, applied);
        if (last > decided.position.seq) {
          await this.waitFor(last);
          continue;
        }
        return answer();
      }
      const { seq: last, hash: prev } = decided.position;
      const bytes = encodeMessage({ format: MESSAGE_FORMAT, origin: this.origin, catalog: store.catalog, prev, changes: decided.changes });
      const maxBytes = this.log!.maxPayload - HEADER_BYTES;
      if ((bytes.length > GROUP_BYTES || bytes.length > maxBytes) && group.length > 1) {
        // Too large for one message with the rest: the second half waits for the next one.
        this.queue.unshift(...group.splice(Math.ceil(group.length / 2)));
        continue;
      }
      // The servers would refuse it however often it is sent: this write alone fails, at once.
      if (bytes.length > maxBytes) return group[0]!.reject(new ChangeTooLargeException(bytes.length, maxBytes));
      const seq = await this.appender!.append(bytes, last);
      if (seq === undefined) {
        // Another instance appended first: decide again on the state after its messages.
        await this.catchUp();
        continue;
      }
      try {
        await store.applyReplicated(seq, bytes);
      } catch (error) {
        // The stream holds the writes: every instance applies them, this one too once it can.
        throw new StorageFailureException(
          `the write is message ${seq} of the replication stream, but this instance could not apply it yet (${(error as Error).message}); ` +
            'every instance applies it: send it again with the same Idempotency-Key for its answer',
          false,
          { cause: error },
        );
      }
      this.advance(seq);
      return answer();
    }
  }

  /** Waits until this instance has applied every message the stream holds now. */
  private async catchUp(): Promise<void> {
    const applied = this.applied;
    const last = await this.appender!.streamLast();
    this.refuseShorterStream(this.requireStore(), last, applied);
    await this.waitFor(last);
  }

  /**
   * Stops this instance when the stream ends before the last message it had applied when it
   * asked (`applied`; the follower may apply more while the answer is on its way): the stream
   * was deleted and made again, and its next messages would follow a state it never had.
   */
  private refuseShorterStream(store: SequencedStore, last: number, applied: number): void {
    if (last >= applied) return;
    this.fail(store, new ReplicationDivergedException(shorterStream(this.log!.stream, last, applied)));
    throw this.failure;
  }

  /** Stops this instance for good: its state cannot follow the stream's. */
  private fail(store: SequencedStore, error: unknown): void {
    const failure = error instanceof StorageFailureException ? error : new ReplicationDivergedException((error as Error).message);
    this.failure = failure;
    this.logger.error(failure.message);
    store.stop(failure);
    dropWaiters(this.waiters, failure);
  }

  private advance(seq: number): void {
    if (seq <= this.applied) return;
    this.applied = seq;
    releaseWaiters(this.waiters, seq);
  }

  private requireStore(): SequencedStore {
    if (!this.store) throw new Error('replication has not started');
    return this.store;
  }
}
