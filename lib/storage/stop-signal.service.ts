/**
 * Fires once, failing the writes in flight. Not a promise raced against: every race with a
 * promise that never settles leaves its reaction, and with it the write's result, attached
 * to that promise for good (a leak of every record written).
 */
export class StopSignal {
  private readonly waiting = new Set<(error: unknown) => void>();
  private fired?: { error: unknown };

  /** Settles as `promise` does, unless the signal fires first. */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.fired) return Promise.reject(this.fired.error);
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      promise.then(
        (value) => {
          this.waiting.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          this.waiting.delete(reject);
          reject(error);
        },
      );
    });
  }

  fire(error: unknown): void {
    this.fired = { error };
    for (const reject of this.waiting) reject(error);
    this.waiting.clear();
  }
}
