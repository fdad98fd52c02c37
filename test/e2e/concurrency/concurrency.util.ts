import { startSample, stopSample, type SampleProcess } from '../../support/sample-process.util.js';

/**
 * Multiplies every size of the concurrency suites: `npm test` runs them at 1, a long run
 * sets `CONCURRENCY_SCALE=20` (more increments, transfers, insert rounds and generated runs).
 */
export const SCALE = Math.max(1, Number(process.env.CONCURRENCY_SCALE ?? 1));

/** A size of `base` at scale 1, grown with `CONCURRENCY_SCALE`. */
export function scaled(base: number): number {
  return Math.round(base * SCALE);
}

/** Sample processes on one data directory, alternating Express and Fastify; all or none. */
export async function startProcesses(count: number, dataPath: string, prefix: string): Promise<SampleProcess[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => startSample(`${prefix}-${i}`, dataPath, i % 2 === 0 ? 'express' : 'fastify')),
  );
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((result) => (result.status === 'fulfilled' ? stopSample(result.value) : undefined)));
    throw failed.reason;
  }
  return started.map((result) => (result as PromiseFulfilledResult<SampleProcess>).value);
}

/** `[from, from + 1, ..., from + count - 1]` */
export function range(count: number, from = 0): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

/** Every ordering of `items` (for the small sets a linearizability search walks). */
export function* permutations<T>(items: readonly T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of permutations(rest)) yield [items[i]!, ...tail];
  }
}
