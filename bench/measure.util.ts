/** One measured run: operations per second over a fixed time, `concurrency` operations in flight. */
export async function opsPerSecond(op: (i: number) => unknown, options: { seconds: number; concurrency?: number }): Promise<number> {
  const concurrency = options.concurrency ?? 1;
  const deadline = performance.now() + options.seconds * 1000;
  let done = 0;
  let next = 0;
  const started = performance.now();
  if (concurrency === 1) {
    while (performance.now() < deadline) {
      const result = op(next++);
      if (result instanceof Promise) await result;
      done++;
    }
  } else {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          await op(next++);
          done++;
        }
      }),
    );
  }
  return done / ((performance.now() - started) / 1000);
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(runs: number[]): Summary {
  const sorted = [...runs].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs };
}

/**
 * Runs A and B `rounds` times each, interleaved and alternating which goes first, so both
 * see the same machine state; returns the summaries of both.
 */
export async function interleaved(rounds: number, a: () => Promise<number>, b: () => Promise<number>): Promise<{ a: Summary; b: Summary }> {
  const runsA: number[] = [];
  const runsB: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      runsA.push(await a());
      runsB.push(await b());
    } else {
      runsB.push(await b());
      runsA.push(await a());
    }
  }
  return { a: summarize(runsA), b: summarize(runsB) };
}
