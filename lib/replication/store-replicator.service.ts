import { setTimeout as delay } from 'node:timers/promises';
import type { ConsumerMessages } from '@nats-io/jetstream';
import type { ReplicationHealth } from '../common/health-options.interface.js';
import { EntitiesLogger } from '../common/entities.logger.js';
import type { ReplicationOptions } from '../common/replication-options.interface.js';
import { ReplicationDivergedException } from '../storage/replication-diverged.exception.js';
import { StorageFailureException } from '../storage/storage-failure.exception.js';
import { decodeMessage, encodeMessage, MESSAGE_FORMAT } from '../storage/transaction-message.util.js';
import { ulidFactory } from '../storage/ulid.util.js';
import type { SequencedStore, WriteSequencer } from '../storage/write-sequencer.interface.js';
import type { WriteTransaction } from '../storage/write-transaction.store.js';
import { JetStreamLog, StreamMovedOnError } from './jetstream-log.client.js';
import { checkReplicationOptions } from './replication-options.util.js';

const DEFAULT_TIMEOUT = 5_000;
/** Writes sent in one message at most. */
const MAX_GROUP = 100;
/**
 * Bytes above which a message of several writes is split: NATS refuses a message larger than
 * its max_payload, 1 MiB unless the servers set another.
 */
const GROUP_BYTES = 256 * 1024;
/** How long health reads down after an append the stream did not confirm, at least (or 5 write timeouts). */
const UNCONFIRMED_FOR = 10_000;
/** Between attempts to append a message whose first attempt had no answer. */
const RETRY_PAUSE = 100;
const nextOrigin = ulidFactory();

/** A write waiting for its turn in a message. */
interface QueuedWrite {
  fn: (tx: WriteTransaction) => unknown;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
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
  private messages?: ConsumerMessages;
  private following?: Promise<void>;
  private readonly queue: QueuedWrite[] = [];
  private pumping = false;
  private appended = 0;
  private applied = 0;
  private readonly waiters = new Set<Waiter>();
  /** Why this instance stopped following the stream; it never resumes without a restart. */
  private failure?: StorageFailureException;
  /** The last group of writes the stream did not take, until an append is confirmed again. */
  private unconfirmed?: { at: number; message: string };

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
      if (!this.options.adoptLocalStore) {
        throw new ReplicationDivergedException(
          `this store holds changes made without replication, which the other instances lack; start from an empty data directory or a backup of an instance of stream ${log.stream}, ` +
            'or set replication.adoptLocalStore on the one instance whose store is to start an empty stream',
        );
      }
      await this.adopt(store, log);
    }
    const position = store.position();
    const { first, last } = await log.bounds();
    if (position.seq > last) {
      throw new ReplicationDivergedException(
        `this store applied message ${position.seq} of a stream that ends at ${last} in ${log.stream}: it follows another stream`,
      );
    }
    if (position.seq < last && position.seq + 1 < first) {
      throw new ReplicationDivergedException(
        `stream ${log.stream} no longer holds message ${position.seq + 1} (it starts at ${first}); start from a backup of an instance made after message ${first - 1}`,
      );
    }
    this.applied = position.seq;
    this.messages = await log.follow(position.seq + 1);
    this.following = this.consume(this.messages);
    // However long the backlog a backup brings takes to apply: start-up is done once it is.
    await this.waitFor(last, Number.POSITIVE_INFINITY);
    this.logger.log(`following stream ${log.stream} from message ${position.seq + 1}; caught up at ${this.applied}`);
  }

  /**
   * Starts the empty stream from this store's data: appends a baseline message, which carries
   * none of it, after nothing, and applies it here. The message holds the store's adoption id
   * (its Nats-Msg-Id too), so a start cut short after the append, or another process on this
   * directory, finds the stream's first message to be this store's and goes on from it. A
   * stream begun by any other message is refused: this store's changes are in none of them.
   */
  private async adopt(store: SequencedStore, log: JetStreamLog): Promise<void> {
    const id = await store.adoption();
    const refused = (why: string) =>
      new ReplicationDivergedException(
        `adoptLocalStore: ${why}, so this store's changes, made without replication, cannot start it; ` +
          `start from a backup of an instance of stream ${log.stream}, or adopt into a new stream (delete and create it again: a purged stream keeps its seqs)`,
      );
    const ownFirst = async (): Promise<Uint8Array | undefined> => {
      const first = await log.messageAt(1).catch(() => undefined);
      try {
        return first && decodeMessage(first).baseline === id ? first : undefined;
      } catch {
        return undefined;
      }
    };
    const { last } = await log.bounds();
    let bytes = last > 0 ? await ownFirst() : undefined;
    if (last > 0 && !bytes) throw refused(`stream ${log.stream} has begun (its last seq is ${last})`);
    if (!bytes) {
      const baseline = encodeMessage({ format: MESSAGE_FORMAT, origin: this.origin, catalog: store.catalog, prev: '', changes: [], baseline: id });
      const seq = await this.append(baseline, 0, `adopt.${id}`);
      bytes = seq === 1 ? baseline : await ownFirst();
      if (!bytes) throw refused(`another instance started stream ${log.stream} first`);
    }
    await store.applyReplicated(1, bytes, true);
    this.logger.log(`this store's data starts stream ${log.stream} (message 1); start the other instances from a backup of it`);
  }

  write<R>(fn: (tx: WriteTransaction) => R): Promise<R> {
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
          // Whatever failed on the way (an append, a catch-up), the stream did not take these writes.
          this.unconfirmed = { at: Date.now(), message: (error as Error).message };
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
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      if (Number.isFinite(timeout)) {
        timer = setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new StorageFailureException(`this instance has applied the replicated changes up to ${this.applied}, not yet ${seq}`, false));
        }, timeout);
      }
      this.waiters.add(waiter);
    });
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
    // A stream leader cut off from its quorum may still answer its info for a while; a write it
    // could not confirm tells sooner. Until one is confirmed again, or for a while with no writes.
    if (this.unconfirmed && Date.now() - this.unconfirmed.at < Math.max(UNCONFIRMED_FOR, 5 * this.timeout)) {
      return { details, problem: `NATS stream ${this.log.stream} did not confirm the last write (has it lost its quorum?): ${this.unconfirmed.message}` };
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeout} ms`)), this.timeout);
    });
    try {
      details.streamLastSeq = (await Promise.race([this.log.bounds(), timedOut])).last;
      return { details };
    } catch (error) {
      return { details, problem: `NATS stream ${this.log.stream} does not answer (has it lost its quorum?): ${(error as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.messages?.stop();
    await this.following;
    await this.log?.close();
    this.log = undefined;
  }

  /**
   * Decides `group` in turn on this instance's state, appends what they change as one message and
   * applies it, then answers each write; a write that threw is answered with its error alone.
   */
  private async sequence(group: QueuedWrite[]): Promise<void> {
    const store = this.requireStore();
    for (;;) {
      const decided = store.decide(group.map((write) => write.fn));
      const answer = () => decided.outcomes.forEach((outcome, i) => ('error' in outcome ? group[i]!.reject(outcome.error) : group[i]!.resolve(outcome.result)));
      if (decided.changes.length === 0) return answer();
      const { seq: last, hash: prev } = decided.position;
      const bytes = encodeMessage({ format: MESSAGE_FORMAT, origin: this.origin, catalog: store.catalog, prev, changes: decided.changes });
      if (bytes.length > GROUP_BYTES && group.length > 1) {
        // Too large for one message with the rest: the second half waits for the next one.
        this.queue.unshift(...group.splice(Math.ceil(group.length / 2)));
        continue;
      }
      const seq = await this.append(bytes, last);
      if (seq === undefined) {
        // Another instance appended first: decide again on the state after its messages.
        await this.catchUp();
        continue;
      }
      await store.applyReplicated(seq, bytes);
      this.advance(seq);
      return answer();
    }
  }

  /**
   * Appends one message after `last`: its seq, or `undefined` when another message came first.
   * An attempt whose outcome is unknown (a timeout, a lost connection) is sent again with the
   * same Nats-Msg-Id, which the stream stores at most once, until `timeout` has passed; if the
   * stream then says another message came first, that message may be this one.
   */
  private async append(bytes: Uint8Array, last: number, msgID = `${this.origin}.${++this.appended}`): Promise<number | undefined> {
    const log = this.log!;
    const deadline = Date.now() + this.timeout;
    let unsure: unknown;
    for (;;) {
      try {
        const seq = await log.append(bytes, last, msgID, Math.max(1, deadline - Date.now()));
        this.unconfirmed = undefined;
        return seq;
      } catch (error) {
        if (error instanceof StreamMovedOnError) {
          this.unconfirmed = undefined;
          if (unsure === undefined) return undefined;
          const stored = await log.messageAt(last + 1).catch(() => undefined);
          if (stored !== undefined && Buffer.from(stored).equals(bytes)) return last + 1;
          if (stored !== undefined) return undefined;
        }
        unsure = error;
      }
      if (Date.now() >= deadline) {
        throw new StorageFailureException(
          `the replication stream did not confirm the write (${(unsure as Error).message}); it may or may not be stored`,
          false,
          { cause: unsure },
        );
      }
      await delay(RETRY_PAUSE);
    }
  }

  /** Waits until this instance has applied every message the stream holds now. */
  private async catchUp(): Promise<void> {
    const { last } = await this.log!.bounds();
    await this.waitFor(last);
  }

  private async consume(messages: ConsumerMessages): Promise<void> {
    const store = this.requireStore();
    try {
      for await (const message of messages) {
        await store.applyReplicated(message.seq, message.data);
        this.advance(message.seq);
      }
      // Closed: nothing more will be applied here.
      this.dropWaiters(new StorageFailureException('replication is closing', false));
    } catch (error) {
      const failure = error instanceof StorageFailureException ? error : new ReplicationDivergedException((error as Error).message);
      this.failure = failure;
      this.logger.error(failure.message);
      store.stop(failure);
      messages.stop();
      this.dropWaiters(failure);
    }
  }

  private dropWaiters(error: StorageFailureException): void {
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }

  private advance(seq: number): void {
    if (seq <= this.applied) return;
    this.applied = seq;
    for (const waiter of this.waiters) {
      if (waiter.seq > seq) continue;
      this.waiters.delete(waiter);
      waiter.resolve();
    }
  }

  private requireStore(): SequencedStore {
    if (!this.store) throw new Error('replication has not started');
    return this.store;
  }
}
