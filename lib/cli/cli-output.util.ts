import { once } from 'node:events';
import cliProgress from 'cli-progress';

/**
 * Writes one line to stdout, waiting while the pipe is full, so a large export holds only
 * one line in memory however slowly its reader drains it.
 */
export async function writeLine(line: string): Promise<void> {
  if (!process.stdout.write(`${line}\n`)) await once(process.stdout, 'drain');
}

/** A reader that stops early (`| head`) closes the pipe: that ends the command quietly, as for any Unix tool. */
export function exitQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
}

/** Progress of a long command; shown on stderr only when it is a terminal, so pipes and logs get none. */
export interface Progress {
  increment(by?: number): void;
  stop(): void;
}

/** `total` is only asked for when the bar is shown: counting can cost a walk over the data. */
export function startProgress(total: () => number, unit: string): Progress {
  if (!process.stderr.isTTY) return { increment: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `{bar} {percentage}% | {value}/{total} ${unit} | {duration_formatted}`, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total(), 0);
  return { increment: (by = 1) => bar.increment(by), stop: () => bar.stop() };
}

/** Runs `work` with a progress bar that is stopped however `work` ends: a bar left running keeps the terminal's cursor hidden. */
export async function withProgress<R>(total: () => number, unit: string, work: (progress: Progress) => R | Promise<R>): Promise<R> {
  const progress = startProgress(total, unit);
  try {
    return await work(progress);
  } finally {
    progress.stop();
  }
}

/** A line for people, on stderr, so stdout carries only the command's data. */
export function tell(message: string): void {
  process.stderr.write(`${message}\n`);
}
