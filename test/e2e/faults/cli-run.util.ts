import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI_MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist', 'cli', 'main.js');
/** A run that has not ended by then is hung. */
const CLI_TIMEOUT_MS = 30_000;

/** How a CLI run ended: its exit code, or the signal that ended it, and what it printed. */
export interface CliRun {
  ended: number | string;
  stdout: string;
  stderr: string;
}

/**
 * Starts the built command line, `node dist/cli/main.js <args>`. `ended` resolves however it
 * ends; a run still going after CLI_TIMEOUT_MS is killed and says so on stderr.
 */
export function startCli(args: readonly string[]): { child: ChildProcess; ended: Promise<CliRun> } {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: build the package first (npm run build; npm test does it in pretest)`);
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => {
    stderr += `\n(hung: killed after ${CLI_TIMEOUT_MS} ms)`;
    child.kill('SIGKILL');
  }, CLI_TIMEOUT_MS);
  const ended = new Promise<CliRun>((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ ended: signal ?? code ?? -1, stdout, stderr });
    }),
  );
  return { child, ended };
}
