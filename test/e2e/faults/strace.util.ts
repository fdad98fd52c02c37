import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

const STRACE = '/usr/bin/strace';
const ATTACH_MS = 10_000;

/**
 * Why strace cannot tamper with another process's syscalls here, or undefined when it can:
 * it must exist and be allowed to attach to a process it did not start (root, or Yama's
 * ptrace_scope 0), as the suites attach to a sample started by the test.
 */
export function straceUnavailable(): string | undefined {
  const target = spawn('sleep', ['5'], { stdio: 'ignore' });
  try {
    execFileSync(STRACE, ['-qq', '-e', 'trace=none', '-e', 'inject=nanosleep:error=EIO', '-p', String(target.pid)], { stdio: 'pipe', timeout: 1_000 });
    return 'strace detached at once';
  } catch (error) {
    // Still attached when the timeout ended it: attaching works.
    if ((error as { code?: string }).code === 'ETIMEDOUT') return undefined;
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    return `strace cannot attach to a process and inject faults here (${stderr || (error as Error).message.split('\n')[0]})`;
  } finally {
    target.kill('SIGKILL');
  }
}

function traced(pid: number): boolean {
  return readdirSync(`/proc/${pid}/task`).every((tid) => {
    try {
      return !/^TracerPid:\s+0$/m.test(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
    } catch {
      // The thread ended meanwhile.
      return true;
    }
  });
}

/** fdatasync's number in /proc/<pid>/task/<tid>/syscall. */
const FDATASYNC = process.arch === 'arm64' ? 83 : 75;
const SYNC_WAIT_MS = 5_000;

/**
 * Stops `pid` (SIGSTOP) at a moment one of its threads is inside fdatasync, the step lmdb
 * takes between writing a commit's pages and its meta page; resolves false if none was seen.
 */
export async function stopDuringSync(pid: number): Promise<boolean> {
  const deadline = Date.now() + SYNC_WAIT_MS;
  while (Date.now() < deadline) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let syscall: string;
      try {
        syscall = readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8');
      } catch {
        continue;
      }
      if (syscall.startsWith(`${FDATASYNC} `)) {
        process.kill(pid, 'SIGSTOP');
        return true;
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return false;
}

/** A running strace. */
export interface Tamper {
  /** Detaches (SIGINT); resolves once strace has let go of every thread. */
  detach: () => Promise<void>;
  /** What strace printed: one line per syscall it traced, `(INJECTED)` on those it failed. */
  output: () => string;
}

/**
 * Attaches strace to every thread of `pid` (-f) with the given expressions, limited to
 * syscalls on `path` (-P: lmdb's file, not the sockets that use the same syscalls), and
 * resolves once every thread is traced.
 */
export async function attachStrace(pid: number, path: string, expressions: string[]): Promise<Tamper> {
  const args = ['-f', '-P', path, ...expressions, '-p', String(pid)];
  const child = spawn(STRACE, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + ATTACH_MS;
  while (!traced(pid)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGINT');
      throw new Error(`strace ${args.join(' ')} did not attach:\n${output}`);
    }
    await delay(5);
  }
  return {
    detach: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
    },
    output: () => output,
  };
}
