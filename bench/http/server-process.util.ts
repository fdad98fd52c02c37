import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { AppKind } from './bench-apps.js';
import type { LoadResult, LoadSpec } from './load-runner.js';
import type { Platform } from './nest-app.util.js';

const script = (name: string) => fileURLToPath(new URL(`./${name}.js`, import.meta.url));

export interface BenchServer {
  kind: AppKind;
  platform: Platform;
  url: string;
  child: ChildProcess;
  /** Milliseconds from spawning the process to its first answer. */
  startupMs: number;
  /** Lines the server printed (`heap ...` for the soak). */
  lines: string[];
}

/** Memory of a process in MiB: anonymous pages (heap and the like) and file-backed ones (lmdb's map). */
export interface Rss {
  anon: number;
  file: number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs a node script of this folder to its end; resolves with what it printed on stdout. */
export function runScript(name: string, args: string[], nodeArgs: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${name} ${args.join(' ')} exited ${code}:\n${err}${out}`))));
  });
}

export async function startServer(kind: AppKind, platform: Platform, dir: string, extra: { nodeArgs?: string[]; args?: string[] } = {}): Promise<BenchServer> {
  const port = await freePort();
  const spawned = performance.now();
  const child = spawn(process.execPath, [...(extra.nodeArgs ?? []), script('bench-server'), kind, platform, dir, String(port), ...(extra.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk));
  await new Promise<void>((resolve, reject) => {
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line.startsWith('ready')) resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`${kind} on ${platform} exited ${code} before it was ready:\n${errors}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const answer = await fetch(`${url}/bench-permits?limit=1&client=client-0&county=Travis`);
  await answer.arrayBuffer();
  return { kind, platform, url, child, startupMs: performance.now() - spawned, lines };
}

export async function stopServer(server: BenchServer): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export function rssOf(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { anon: kib('RssAnon') / 1024, file: kib('RssFile') / 1024 };
}

/** One autocannon run from its own process, sampling the server's memory meanwhile; `rss` is the peak. */
export async function load(server: BenchServer, spec: Omit<LoadSpec, 'url'>): Promise<LoadResult & { rss: Rss }> {
  const peak: Rss = { anon: 0, file: 0 };
  const sample = () => {
    const rss = rssOf(server.child.pid!);
    peak.anon = Math.max(peak.anon, rss.anon);
    peak.file = Math.max(peak.file, rss.file);
  };
  const timer = setInterval(sample, 250);
  try {
    const out = await runScript('load-runner', [JSON.stringify({ ...spec, url: server.url })]);
    sample();
    return { ...(JSON.parse(out.trim().split('\n').pop()!) as LoadResult), rss: peak };
  } finally {
    clearInterval(timer);
  }
}
