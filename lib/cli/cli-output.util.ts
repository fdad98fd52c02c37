import { once } from 'node:events';
import cliProgress from 'cli-progress';
import { CliFailure } from './cli-failure.exception.js';
import { EXIT_CODES } from './exit-code.constants.js';

/** How stdout failed, once it did: EPIPE when its reader went away (`| head`), anything else (a full disk) a failure. */
let outputFailure: NodeJS.ErrnoException | undefined;

/**
 * Writes one line to stdout, waiting while the pipe is full, so a large export holds only
 * one line in memory however slowly its reader drains it. Resolves false once the reader has
 * gone (a pipe closed early): later lines are dropped, and a command that only prints stops,
 * while one that changes the store finishes what it was asked to do. Throws when stdout
 * cannot be written (a full disk): the output would be cut short.
 */
export async function writeLine(line: string): Promise<boolean> {
  if (!outputFailure) {
    try {
      if (!process.stdout.write(`${line}\n`)) await once(process.stdout, 'drain');
    } catch (error) {
      outputFailure ??= error as NodeJS.ErrnoException;
    }
  }
  const failure = outputFailureToReport();
  if (failure) throw failure;
  return outputFailure === undefined;
}

/**
 * Keeps stdout's failures from ending the process with a stack trace. A failure that no
 * later line reported (the last line, or an error that arrived after it) still ends the
 * command with exit 1 and a one-line message, whatever it was doing.
 */
export function watchStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => (outputFailure ??= error));
  process.once('exit', () => {
    const failure = outputFailureToReport();
    if (!failure || (process.exitCode !== undefined && process.exitCode !== 0)) return;
    process.stderr.write(`error: ${failure.message}\n`);
    process.exitCode = failure.exitCode;
  });
}

function outputFailureToReport(): CliFailure | undefined {
  if (!outputFailure || outputFailure.code === 'EPIPE') return undefined;
  return new CliFailure(`cannot write the output: ${outputFailure.message}`, EXIT_CODES.failed);
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
