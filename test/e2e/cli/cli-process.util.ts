import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The compiled command line; `npm test` builds it first through its `pretest` script. */
export const CLI_MAIN = join(ROOT, 'dist', 'cli', 'main.js');
/** A command that runs longer than this is stuck; the test fails instead of hanging. */
const RUN_MS = 60_000;

/** How a finished command ended. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function assertCliBuilt(): void {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: build first (npm run build; npm test does it in pretest)`);
}

/** Runs `node dist/cli/main.js ...args` to the end; `stdin` is text, or `{ file }` to redirect a file. */
export function runCli(args: readonly string[], stdin?: string | { file: string }): Promise<CliResult> {
  const child = startCli(args);
  if (typeof stdin === 'string') child.stdin!.end(stdin);
  else if (stdin) createReadStream(stdin.file).pipe(child.stdin!);
  else child.stdin!.end();
  return finished(child);
}

/** Starts the command line and returns at once, for commands that keep running (`events --follow`). */
export function startCli(args: readonly string[]): ChildProcess & { output: { stdout: string; stderr: string } } {
  assertCliBuilt();
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  // A command that exits before reading all of stdin closes the pipe; that is not the test's failure.
  child.stdin!.on('error', () => undefined);
  return Object.assign(child, { output });
}

/** Resolves once `child` has exited and its output is complete. */
export function finished(child: ReturnType<typeof startCli>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the command line ran longer than ${RUN_MS} ms:\n${child.output.stderr}`));
    }, RUN_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...child.output });
    });
  });
}

/** Polls until `predicate` holds, failing after `ms` with `what` in the message. */
export async function waitFor(predicate: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The NDJSON lines of an output, parsed. */
export function ndjson(text: string): any[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

/** Exports every entity of the store at `path` into `file`; fails unless the export succeeds. */
export async function exportStore(path: string, file: string): Promise<void> {
  const result = await runCli(['export', '--path', path]);
  if (result.code !== 0) throw new Error(`export of ${path} failed (${result.code}): ${result.stderr}`);
  writeFileSync(file, result.stdout);
}
