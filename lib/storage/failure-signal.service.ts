/**
 * Counts commit failures and wakes the writes waiting for `flushed` when one happens.
 * Waiters are kept in a set and removed once flushed, so nothing accumulates per write.
 */
export class FailureSignal {
  count = 0;
  private readonly waiters = new Set<() => void>();

  signal(): void {
    this.count++;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Resolves true once `flushed` does, or false at a failure since `epoch`. */
  flushedUnless(epoch: number, flushed: PromiseLike<unknown>): Promise<boolean> {
    if (this.count !== epoch) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = () => resolve(false);
      this.waiters.add(wake);
      Promise.resolve(flushed).then(
        () => {
          this.waiters.delete(wake);
          resolve(true);
        },
        () => {
          this.waiters.delete(wake);
          resolve(false);
        },
      );
    });
  }
}
