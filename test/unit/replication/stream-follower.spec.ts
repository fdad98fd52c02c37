import type { ConsumerNotification } from '@nats-io/jetstream';
import type { StreamMessages } from '../../../lib/replication/jetstream-log.client.js';
import { StreamFollower } from '../../../lib/replication/stream-follower.service.js';

/** A consumer's messages, delivered when the test says so, ending or failing when it says so. */
class FakeMessages implements StreamMessages {
  private readonly queue: Array<{ seq: number; data: Uint8Array } | Error> = [];
  private readonly notifications: ConsumerNotification[] = [];
  private wake?: () => void;
  private wakeStatus?: () => void;
  stopped = false;

  notify(status: ConsumerNotification): void {
    this.notifications.push(status);
    this.wakeStatus?.();
  }

  deliver(...seqs: number[]): void {
    for (const seq of seqs) this.queue.push({ seq, data: Uint8Array.of(seq) });
    this.wake?.();
  }

  fail(error: Error): void {
    this.queue.push(error);
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
    this.wakeStatus?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<{ seq: number; data: Uint8Array }> {
    for (;;) {
      const next = this.queue.shift();
      if (next instanceof Error) throw next;
      if (next) {
        yield next;
        continue;
      }
      if (this.stopped) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async *status(): AsyncIterable<ConsumerNotification> {
    for (;;) {
      const next = this.notifications.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.stopped) return;
      await new Promise<void>((resolve) => (this.wakeStatus = resolve));
    }
  }
}

const TIMINGS = { watchEvery: 10, stallAfter: 40, retryPause: 5 };

function until(condition: () => boolean, within = 2_000): Promise<void> {
  const deadline = Date.now() + within;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(poll, 2);
    };
    poll();
  });
}

/** A follower of a fake stream that holds messages up to `last`, with what it did. */
function setUp(options: { applied?: number; failFollows?: number; apply?: (seq: number) => void; timings?: Partial<typeof TIMINGS> } = {}) {
  const stream = {
    last: 0,
    follows: [] as number[],
    consumers: [] as FakeMessages[],
    failFollows: options.failFollows ?? 0,
    /** While set, a follow waits for it: a consumer the server has not made yet. */
    pending: undefined as Promise<void> | undefined,
  };
  const applied: number[] = [];
  const failures: unknown[] = [];
  const said: string[] = [];
  let at = options.applied ?? 0;
  const log = {
    stream: 'S',
    follow: async (seq: number) => {
      stream.follows.push(seq);
      await stream.pending;
      if (stream.failFollows-- > 0) throw new Error('no responders');
      const messages = new FakeMessages();
      stream.consumers.push(messages);
      return messages;
    },
    bounds: async () => ({ first: 1, last: stream.last }),
  };
  const follower = new StreamFollower(
    log,
    {
      appliedSeq: () => at,
      apply: async (seq) => {
        options.apply?.(seq);
        applied.push(seq);
        at = seq;
      },
      failed: (error) => void failures.push(error),
    },
    { log: (message) => void said.push(String(message)), warn: (message) => void said.push(String(message)) },
    { ...TIMINGS, ...options.timings },
  );
  const consumer = () => stream.consumers.at(-1)!;
  return { stream, applied, failures, said, follower, consumer };
}

describe('StreamFollower', () => {
  it('applies what its consumer delivers, in order, from the message after the last applied', async () => {
    const { stream, applied, follower, consumer } = setUp({ applied: 4 });
    await follower.start();
    expect(stream.follows).toEqual([5]);
    consumer().deliver(5, 6, 7);
    await until(() => applied.length === 3);
    expect(applied).toEqual([5, 6, 7]);
    await follower.close();
    expect(consumer().stopped).toBe(true);
  });

  it('makes its consumer again when nothing comes while the stream holds later messages', async () => {
    const { stream, applied, said, follower, consumer } = setUp();
    await follower.start();
    consumer().deliver(1, 2);
    stream.last = 5;
    await until(() => stream.follows.length === 2);
    expect(stream.follows).toEqual([1, 3]);
    expect(stream.consumers[0]!.stopped).toBe(true);
    expect(said).toContain('stream S: nothing applied after message 2 for 0 s while it holds messages up to 5; making its consumer again');
    consumer().deliver(3, 4, 5);
    await until(() => applied.length === 5);
    expect(applied).toEqual([1, 2, 3, 4, 5]);
    await follower.close();
  });

  it('makes its consumer again, from the next message, once its heartbeats stop', async () => {
    const { stream, applied, said, follower, consumer } = setUp();
    await follower.start();
    consumer().deliver(1);
    await until(() => applied.length === 1);
    consumer().notify({ type: 'ordered_consumer_recreated', name: 'c_2' });
    consumer().notify({ type: 'heartbeats_missed', count: 2 });
    await until(() => stream.follows.length === 2);
    expect(stream.follows).toEqual([1, 2]);
    expect(said).toEqual([
      'stream S: following it again after message 1 (consumer c_2)',
      'stream S: no message or heartbeat from its consumer for 2 heartbeats after message 1; making it again',
      'stream S: following it again from message 2',
    ]);
    await follower.close();
  });

  it('leaves a quiet consumer alone while the stream holds nothing later', async () => {
    const { stream, follower, consumer } = setUp();
    await follower.start();
    consumer().deliver(1, 2);
    stream.last = 2;
    await new Promise((resolve) => setTimeout(resolve, TIMINGS.stallAfter * 4));
    expect(stream.follows).toEqual([1]);
    await follower.close();
  });

  it.each([
    ['ends', (messages: FakeMessages) => messages.stop(), 'stream S: its consumer stopped after message 2; following it again'],
    [
      'fails',
      (messages: FakeMessages) => messages.fail(new Error('heartbeats missed')),
      'stream S: its consumer failed after message 2 (heartbeats missed); following it again',
    ],
  ])('follows the stream again from the next message when its consumer %s without a close', async (_, end, warning) => {
    const { stream, applied, said, follower, consumer } = setUp();
    await follower.start();
    consumer().deliver(1, 2);
    await until(() => applied.length === 2);
    end(consumer());
    await until(() => stream.follows.length === 2);
    expect(stream.follows).toEqual([1, 3]);
    expect(said).toContain(warning);
    consumer().deliver(3);
    await until(() => applied.length === 3);
    await follower.close();
  });

  it('tries again, pausing longer each time, while the stream cannot be followed', async () => {
    const { stream, applied, said, follower, consumer } = setUp();
    await follower.start();
    stream.failFollows = 3;
    consumer().stop();
    await until(() => stream.consumers.length === 2);
    expect(stream.follows).toEqual([1, 1, 1, 1, 1]);
    expect(said.filter((line) => line.startsWith('stream S: cannot follow it from message 1 yet (no responders)'))).toEqual([
      'stream S: cannot follow it from message 1 yet (no responders); trying again in 5 ms',
      'stream S: cannot follow it from message 1 yet (no responders); trying again in 10 ms',
      'stream S: cannot follow it from message 1 yet (no responders); trying again in 20 ms',
    ]);
    consumer().deliver(1);
    await until(() => applied.length === 1);
    await follower.close();
  });

  it('stops for good, and says why once, when a message cannot be applied', async () => {
    const diverged = new Error('message 2 does not chain on message 1');
    const { stream, applied, failures, follower, consumer } = setUp({
      apply: (seq) => {
        if (seq === 2) throw diverged;
      },
    });
    await follower.start();
    stream.last = 3;
    consumer().deliver(1, 2, 3);
    await until(() => failures.length === 1);
    await new Promise((resolve) => setTimeout(resolve, TIMINGS.stallAfter * 3));
    expect(failures).toEqual([diverged]);
    expect(applied).toEqual([1]);
    expect(stream.follows).toEqual([1]);
    expect(consumer().stopped).toBe(true);
    await follower.close();
  });

  it('fails to start as the first attempt to follow fails', async () => {
    const { follower } = setUp({ failFollows: 1 });
    await expect(follower.start()).rejects.toThrow('no responders');
  });

  it('closes at once while it pauses between attempts', async () => {
    const { stream, said, follower, consumer } = setUp({ timings: { retryPause: 60_000 } });
    await follower.start();
    consumer().stop();
    await until(() => said.includes('stream S: its consumer stopped after message 0; following it again'));
    const closing = Date.now();
    await follower.close();
    expect(Date.now() - closing).toBeLessThan(1_000);
    expect(stream.follows).toEqual([1]);
  });

  it('stops, rather than follows, a consumer made while it was closing', async () => {
    const { stream, follower, consumer } = setUp();
    await follower.start();
    let made!: () => void;
    stream.pending = new Promise((resolve) => (made = resolve));
    consumer().stop();
    await until(() => stream.follows.length === 2);
    const closed = follower.close();
    made();
    await closed;
    expect(stream.consumers).toHaveLength(2);
    expect(stream.consumers.every((messages) => messages.stopped)).toBe(true);
  });

  it('stops the first consumer, and watches nothing, when closed while it starts', async () => {
    const { stream, follower } = setUp();
    let made!: () => void;
    stream.pending = new Promise((resolve) => (made = resolve));
    stream.last = 5;
    const started = follower.start();
    await until(() => stream.follows.length === 1);
    const closed = follower.close();
    made();
    await started;
    await closed;
    expect(stream.consumers[0]!.stopped).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, TIMINGS.stallAfter * 3));
    expect(stream.follows).toEqual([1]);
  });
});
