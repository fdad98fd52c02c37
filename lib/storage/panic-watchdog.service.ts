import type { RootDatabase } from 'lmdb';

const WATCHDOG_MS = 3_000;
const PROBE_KEY = Buffer.from('watchdog');

/**
 * lmdb-js only logs a panic (a failed meta-page write) and leaves queued transactions
 * pending forever. While writes wait, the environment is probed every few seconds; a read
 * that fails with an LMDB error means it panicked. A commit also hangs, without a panic, on
 * a shared last-transaction id another process's open set back: `onStillWaiting` is told at
 * each probe that finds writes still waiting.
 */
export class PanicWatchdog {
  private timer?: NodeJS.Timeout;

  /** `watched` gives the environment while writes wait on it, `undefined` once there is nothing to watch. */
  constructor(
    private readonly watched: () => RootDatabase | undefined,
    private readonly onPanic: (error: unknown) => void,
    private readonly onStillWaiting: () => void = () => undefined,
  ) {}

  /** Probes in a few seconds, and on from there while writes wait; a no-op while a probe is due. */
  arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const root = this.watched();
      if (!root) return;
      try {
        root.resetReadTxn();
        root.getStats();
        root.get(PROBE_KEY);
      } catch (error) {
        this.onPanic(error);
        return;
      }
      this.onStillWaiting();
      this.arm();
    }, WATCHDOG_MS).unref();
  }

  disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
