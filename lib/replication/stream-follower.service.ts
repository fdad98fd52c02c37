import { setTimeout as delay } from 'node:timers/promises';
import type { EntitiesLogger } from '../common/entities.logger.js';
import { ReplicationDivergedException } from '../storage/replication-diverged.exception.js';
import type { JetStreamLog, StreamMessages } from './jetstream-log.client.js';
import { shorterStream } from './stream-health.util.js';

/** How often the follower looks whether messages still come while the stream holds more. */
const WATCH_EVERY = 5_000;
/** How long nothing may be applied while the stream holds later messages before the consumer is made again. */
const STALL_AFTER = 10_000;
/** Before following the stream again; doubled after each failed attempt, up to `MAX_PAUSE`. */
const RETRY_PAUSE = 1_000;
const MAX_PAUSE = 5_000;

/** What the follower does with the messages: its owner applies them and knows where it is. */
export interface FollowerTarget {
  /** The seq of the last message applied: the follower goes on from the next one. */
  appliedSeq(): number;
  /** Applies the message at `seq`; a throw is this instance's end (its state cannot follow the stream's). */
  apply(seq: number, data: Uint8Array): Promise<void>;
  /** Called once, with what `apply` threw; the follower has stopped. */
  failed(error: unknown): void;
}

/** Timings, shortened by tests. */
export interface FollowerTimings {
  watchEvery: number;
  stallAfter: number;
  retryPause: number;
}

/**
 * Applies the stream's messages in order, for as long as it is not closed, whatever becomes of
 * the consumer that delivers them. nats.js makes an ordered consumer again after most losses,
 * but not after all: after a stream server was killed, a consumer was seen delivering nothing,
 * or one message every few seconds, while the stream moved on. So the follower also watches:
 * when nothing was applied for a while and the stream holds later messages, or when the messages
 * end or fail without a close, it follows the stream again from the next message it needs.
 */
export class StreamFollower {
  private messages?: StreamMessages;
  private running?: Promise<void>;
  private watch?: NodeJS.Timeout;
  /** Aborted once closed (or stopped by an apply that failed); cuts a pause between attempts short. */
  private readonly closing = new AbortController();
  private lastSeen = -1;
  /** When the watch first saw `lastSeen` applied. */
  private lastProgress = Date.now();
  private failedAttempts = 0;
  /** Consumers this follower stopped itself, to follow the stream with a new one. */
  private readonly remade = new WeakSet<StreamMessages>();

  constructor(
    private readonly log: Pick<JetStreamLog, 'stream' | 'follow' | 'bounds'>,
    private readonly target: FollowerTarget,
    private readonly logger: Pick<EntitiesLogger, 'log' | 'warn'>,
    private readonly timings: FollowerTimings = { watchEvery: WATCH_EVERY, stallAfter: STALL_AFTER, retryPause: RETRY_PAUSE },
  ) {}

  /** Follows the stream from the message after the target's last; fails as the first attempt does. */
  async start(): Promise<void> {
    const messages = await this.log.follow(this.target.appliedSeq() + 1);
    if (this.closed) return messages.stop();
    this.running = this.run(messages);
    this.watch = setInterval(() => void this.check(), this.timings.watchEvery);
    this.watch.unref();
  }

  /** Stops following; resolves once no message is being applied. */
  async close(): Promise<void> {
    this.end();
    this.messages?.stop();
    await this.running;
  }

  private get closed(): boolean {
    return this.closing.signal.aborted;
  }

  private end(): void {
    this.closing.abort();
    clearInterval(this.watch);
  }

  /** Applies what each consumer delivers, then follows the stream again, until closed or an apply fails. */
  private async run(first: StreamMessages): Promise<void> {
    let messages: StreamMessages | undefined = first;
    while (!this.closed) {
      messages ??= await this.followAgain();
      if (!messages) continue;
      if (this.closed) {
        messages.stop();
        break;
      }
      this.messages = messages;
      void this.report(messages);
      if (!(await this.consume(messages))) return;
      messages = undefined;
      if (!this.closed) await this.pause(this.timings.retryPause);
    }
  }

  /** Whether to go on: `false` once an apply failed, which the target was told of. */
  private async consume(messages: StreamMessages): Promise<boolean> {
    try {
      for await (const message of messages) {
        try {
          await this.target.apply(message.seq, message.data);
        } catch (error) {
          messages.stop();
          this.end();
          this.target.failed(error);
          return false;
        }
      }
      if (!this.closed && !this.remade.has(messages))
        this.logger.warn(`stream ${this.log.stream}: its consumer stopped after message ${this.target.appliedSeq()}; following it again`);
    } catch (error) {
      this.logger.warn(
        `stream ${this.log.stream}: its consumer failed after message ${this.target.appliedSeq()} (${(error as Error).message}); following it again`,
      );
    }
    return true;
  }

  private async followAgain(): Promise<StreamMessages | undefined> {
    const from = this.target.appliedSeq() + 1;
    try {
      const messages = await this.log.follow(from);
      this.failedAttempts = 0;
      this.logger.log(`stream ${this.log.stream}: following it again from message ${from}`);
      return messages;
    } catch (error) {
      const pause = Math.min(MAX_PAUSE, this.timings.retryPause * 2 ** this.failedAttempts++);
      this.logger.warn(`stream ${this.log.stream}: cannot follow it from message ${from} yet (${(error as Error).message}); trying again in ${pause} ms`);
      await this.pause(pause);
      return undefined;
    }
  }

  private pause(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.closing.signal }).catch(() => undefined);
  }

  /** Stops the consumer, so `run` makes another, once nothing was applied for a while and the stream holds more. */
  private async check(): Promise<void> {
    const applied = this.target.appliedSeq();
    if (applied !== this.lastSeen) {
      this.lastSeen = applied;
      this.lastProgress = Date.now();
      return;
    }
    const still = Date.now() - this.lastProgress;
    if (still < this.timings.stallAfter) return;
    // A stream that does not answer is not a stalled consumer: health and writes report it.
    const last = await this.log.bounds().then(
      (bounds) => bounds.last,
      () => undefined,
    );
    if (last === undefined || this.closed || this.target.appliedSeq() !== applied) return;
    if (last < applied) {
      this.messages?.stop();
      this.end();
      return this.target.failed(new ReplicationDivergedException(shorterStream(this.log.stream, last, applied)));
    }
    if (last === applied) return;
    this.lastProgress = Date.now();
    this.logger.warn(
      `stream ${this.log.stream}: nothing applied after message ${applied} for ${Math.round(still / 1000)} s while it holds messages up to ${last}; making its consumer again`,
    );
    if (this.messages) this.remake(this.messages);
  }

  private remake(messages: StreamMessages): void {
    this.remade.add(messages);
    messages.stop();
  }

  /**
   * Tells the operator what becomes of the stream's consumer, and makes it again once its
   * heartbeats stop: in between, this instance applies nothing and answers reads that name a
   * later seq with 503. nats.js would look for the consumer itself, but a consumer it makes
   * again may start with a pull for a single message and go silent after it.
   */
  private async report(messages: StreamMessages): Promise<void> {
    for await (const status of messages.status()) {
      const after = this.target.appliedSeq();
      if (status.type === 'heartbeats_missed') {
        this.logger.warn(
          `stream ${this.log.stream}: no message or heartbeat from its consumer for ${status.count} heartbeats after message ${after}; making it again`,
        );
        this.remake(messages);
      } else if (
        status.type === 'consumer_not_found' ||
        status.type === 'consumer_deleted' ||
        status.type === 'stream_not_found' ||
        status.type === 'no_responders'
      ) {
        this.logger.warn(`stream ${this.log.stream}: ${status.type.replaceAll('_', ' ')} while following it after message ${after}`);
      } else if (status.type === 'ordered_consumer_recreated') {
        this.logger.log(`stream ${this.log.stream}: following it again after message ${after} (consumer ${status.name})`);
      }
    }
  }
}
