import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
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
  /** The kernel's I/O statistics of the block device holding its store, when it has one. */
  deviceStat?: string;
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
  const deviceStat = deviceStatOf(dir);
  return { kind, platform, url, child, startupMs: performance.now() - spawned, lines, ...(deviceStat && { deviceStat }) };
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

/** CPU time of every thread of a process so far, in microseconds (user and system). */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name, in parentheses, may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS;
}

/**
 * Where Linux counts the I/O of the block device holding `dir`; undefined elsewhere (tmpfs,
 * overlays, other systems). A process's own `write_bytes` will not do: it counts each page a
 * write dirties as the whole cached folio holding it, tens of KiB for a 4 KiB LMDB page in a
 * store loaded in bulk, where the device is sent the page.
 */
function deviceStatOf(dir: string): string | undefined {
  const dev = statSync(dir, { bigint: true }).dev;
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  const path = `/sys/dev/block/${major}:${minor}/stat`;
  return existsSync(path) ? path : undefined;
}

/** Bytes written to the device so far, once every dirty page of the system is on it. */
function deviceWritten(deviceStat: string): number {
  execFileSync('sync');
  return Number(readFileSync(deviceStat, 'utf8').trim().split(/\s+/)[6]) * SECTOR_BYTES;
}

/** The unit of the device statistics' sector counts, whatever the device's own sector size. */
const SECTOR_BYTES = 512;

/** Linux reports process times in USER_HZ ticks, 100 a second on the architectures Node runs on. */
const CLOCK_TICKS = 100;

/** What the server spent per answered request during one run. */
export interface ServerCost {
  /** Microseconds of CPU across all its threads (the event loop, lmdb's commits, the garbage collector). */
  cpuMicros: number;
  /**
   * KiB sent to the device holding its store, synced at the end of the run so that writes the
   * kernel had not yet flushed (SQLite's at `NORMAL`) count; every writer on the device counts,
   * and the loaded server is the only busy one. Undefined when the store is on no block device.
   */
  writtenKiB?: number;
}

/**
 * One autocannon run from its own process, sampling the server's memory meanwhile; `rss` is the
 * peak, `cost` the server's CPU and writes per request.
 */
export async function load(server: BenchServer, spec: Omit<LoadSpec, 'url'>): Promise<LoadResult & { rss: Rss; cost: ServerCost }> {
  const peak: Rss = { anon: 0, file: 0 };
  const sample = () => {
    const rss = rssOf(server.child.pid!);
    peak.anon = Math.max(peak.anon, rss.anon);
    peak.file = Math.max(peak.file, rss.file);
  };
  const pid = server.child.pid!;
  const cpuBefore = cpuOf(pid);
  const device = server.deviceStat;
  const writtenBefore = device === undefined ? undefined : deviceWritten(device);
  const timer = setInterval(sample, 250);
  try {
    const out = await runScript('load-runner', [JSON.stringify({ ...spec, url: server.url })]);
    sample();
    const result = JSON.parse(out.trim().split('\n').pop()!) as LoadResult;
    const requests = Math.max(result.total, 1);
    const cost: ServerCost = { cpuMicros: (cpuOf(pid) - cpuBefore) / requests };
    if (device !== undefined && writtenBefore !== undefined) cost.writtenKiB = (deviceWritten(device) - writtenBefore) / 1024 / requests;
    return { ...result, rss: peak, cost };
  } finally {
    clearInterval(timer);
  }
}
