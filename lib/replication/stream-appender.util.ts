import { setTimeout as delay } from 'node:timers/promises';
import { StorageFailureException } from '../storage/storage-failure.exception.js';
import { StreamMovedOnError, type JetStreamLog } from './jetstream-log.client.js';
import type { UnconfirmedAppend } from './stream-health.util.js';

/** Between attempts to append a message whose first attempt had no answer. */
const RETRY_PAUSE = 100;

/** How one instance appends its messages to the stream and asks where it ends, each bounded by `timeout`. */
export class StreamAppender {
  /** The last message the stream did not confirm, until one is confirmed again (health reads it). */
  unconfirmed?: UnconfirmedAppend;
  /** Set once replication closes: an append waiting for its answer stops waiting. */
  closed = false;
  private appended = 0;

  constructor(
    readonly log: JetStreamLog,
    private readonly origin: string,
    private readonly timeout: number,
  ) {}

  /**
   * Appends one message after `last`: its seq, or `undefined` when another message came first.
   * An attempt whose outcome is unknown (a timeout, a lost connection) is sent again with the
   * same Nats-Msg-Id, which the stream stores at most once, until `timeout` has passed; if the
   * stream then says another message came first, that message may be this one.
   */
  async append(bytes: Uint8Array, last: number, msgID = `${this.origin}.${++this.appended}`): Promise<number | undefined> {
    const deadline = Date.now() + this.timeout;
    let unsure: unknown;
    for (;;) {
      try {
        const seq = await this.log.append(bytes, last, msgID, Math.max(1, deadline - Date.now()));
        this.unconfirmed = undefined;
        return seq;
      } catch (error) {
        if (error instanceof StreamMovedOnError) {
          this.unconfirmed = undefined;
          if (unsure === undefined) return undefined;
          const stored = await this.log.messageAt(last + 1).catch(() => undefined);
          if (stored !== undefined && Buffer.from(stored).equals(bytes)) return last + 1;
          if (stored !== undefined) return undefined;
        }
        unsure = error;
      }
      const reason = (unsure as Error).message;
      if (this.closed) {
        throw new StorageFailureException(`replication closed before the stream confirmed the write (${reason}); it may or may not be stored`, false, {
          cause: unsure,
        });
      }
      if (Date.now() >= deadline) {
        // Health reads down for a while: a leader cut off from its quorum may still answer stream info.
        this.unconfirmed = { at: Date.now(), message: reason };
        throw new StorageFailureException(`the replication stream did not confirm the write (${reason}); it may or may not be stored`, false, {
          cause: unsure,
        });
      }
      await delay(RETRY_PAUSE);
    }
  }

  /** The seq of the stream's last message, now. */
  async streamLast(): Promise<number> {
    try {
      return (await this.log.bounds()).last;
    } catch (error) {
      throw new StorageFailureException(`the replication stream could not be reached (${(error as Error).message}); nothing was stored`, false, {
        cause: error,
      });
    }
  }
}
