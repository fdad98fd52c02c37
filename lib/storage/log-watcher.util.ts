import { setMaxListeners } from 'node:events';

/** How often the log's last seq is read while someone watches it. */
const POLL_MS = 25;

/**
 * Tells watchers when the event log may have grown, until the app shuts down (`end`).
 * Other processes append to the same log, and LMDB has no cross-process notification, so the
 * last seq is polled, once for every watcher, and only while there is one; the timer never
 * keeps the process alive.
 */
export class LogWatcher {
  private readonly watchers = new Set<() => void>();
  private timer?: NodeJS.Timeout;
  private lastSeen = -1;
  private ending = LogWatcher.ending();

  constructor(private readonly lastSeq: () => number) {}

  private static ending(): AbortController {
    const ending = new AbortController();
    // Every open change stream listens to it.
    setMaxListeners(0, ending.signal);
    return ending;
  }

  /** Lets a store opened again take subscriptions: those the last close ended stay ended (each holds the `endSignal` of its day). */
  renew(): void {
    if (this.ended) this.ending = LogWatcher.ending();
  }

  /** Calls `onGrow` whenever the log's last seq moves, until the returned function is called. */
  watch(onGrow: () => void): () => void {
    this.watchers.add(onGrow);
    if (!this.timer) {
      this.lastSeen = this.lastSeq();
      this.timer = setInterval(() => this.poll(), POLL_MS);
      this.timer.unref();
    }
    return () => {
      this.watchers.delete(onGrow);
      if (this.watchers.size === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Set once the app shuts down: subscribers finish rather than wait. */
  get ended(): boolean {
    return this.ending.signal.aborted;
  }

  /** Aborted once the app shuts down, for what waits on something else than the log (a client's reads). */
  get endSignal(): AbortSignal {
    return this.ending.signal;
  }

  /** Stops watching for good and wakes every watcher, so each sees `ended` and finishes. */
  end(): void {
    this.ending.abort();
    this.stop();
    const ended = [...this.watchers];
    // A subscriber paused at a `yield` and never resumed would stay listed, and be polled for, after a reopen.
    this.watchers.clear();
    for (const watcher of ended) watcher();
  }

  private poll(): void {
    let last: number;
    try {
      last = this.lastSeq();
    } catch {
      // The store closed under the watchers: wake them, their next read fails and ends them.
      last = Number.NaN;
    }
    if (last === this.lastSeen) return;
    this.lastSeen = last;
    for (const watcher of [...this.watchers]) watcher();
  }
}
