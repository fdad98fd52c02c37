import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The compiled sample; `npm test` builds it first through its `pretest` script. */
export const SAMPLE_MAIN = join(ROOT, 'sample', 'dist', 'main.js');
const HOST = '127.0.0.1';
const STARTUP_MS = 25_000;
const STOP_MS = 5_000;

/** The administrator of the sample (`admin` holds `*`), as its `X-User` header spells it. */
export const ADMIN = 'admin:admin';

/** One running copy of the compiled sample app. */
export interface SampleProcess {
  name: string;
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Everything it printed so far, for error messages. */
  output: () => string;
}

/** An answer of a sample process, its JSON body parsed. */
export interface SampleResponse {
  status: number;
  body: any;
  etag: string | null;
}

/** Fails with a clear message when the sample has not been compiled. */
export function assertSampleBuilt(): void {
  if (!existsSync(SAMPLE_MAIN)) {
    throw new Error(`${SAMPLE_MAIN} is missing: build the sample first (npm run build && npm run build:sample; npm test does it in pretest)`);
  }
}

/** A TCP port nobody listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** Starts `node sample/dist/main.js` on a free port and `dataPath` (and `env`); resolves once it answers `GET /permits`. */
export async function startSample(name: string, dataPath: string, platform: 'express' | 'fastify', env: Record<string, string> = {}): Promise<SampleProcess> {
  assertSampleBuilt();
  const port = await freePort();
  const child = spawn(process.execPath, [SAMPLE_MAIN], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST, DATA_PATH: dataPath, PLATFORM: platform, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const sample: SampleProcess = { name, child, base: `http://${HOST}:${port}`, output: () => output };
  const deadline = Date.now() + STARTUP_MS;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`sample ${name} exited (${child.signalCode ?? child.exitCode}) before answering:\n${output}`);
      }
      try {
        const response = await fetch(`${sample.base}/permits?limit=1`);
        await response.arrayBuffer();
        if (response.status === 200) return sample;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`sample ${name} did not answer GET /permits within ${STARTUP_MS} ms:\n${output}`);
  } catch (error) {
    await stopSample(sample);
    throw error;
  }
}

/** Starts two sample processes, A on express and B on fastify, on one data directory; both or neither. */
export async function startPair(dataPath: string): Promise<[SampleProcess, SampleProcess]> {
  const started = await Promise.allSettled([startSample('A', dataPath, 'express'), startSample('B', dataPath, 'fastify')]);
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((result) => (result.status === 'fulfilled' ? stopSample(result.value) : undefined)));
    throw failed.reason;
  }
  return started.map((result) => (result as PromiseFulfilledResult<SampleProcess>).value) as [SampleProcess, SampleProcess];
}

/** SIGTERM (the sample closes its store on it), SIGKILL after 5 s; resolves once the process is gone. */
export async function stopSample(sample: SampleProcess | undefined): Promise<void> {
  const child = sample?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
  await exited;
  clearTimeout(timer);
}

/** A request to one process, as `user` (`X-User: <id>:<role,role>`) when given. */
export async function call(
  sample: SampleProcess,
  method: string,
  path: string,
  options: { user?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<SampleResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.user !== undefined) headers['x-user'] = options.user;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${sample.base}${path}`, {
    method,
    headers,
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text), etag: response.headers.get('etag') };
}

/** A permit body the sample accepts. */
export function permitBody(number: string, client = 'Acme Builders'): Record<string, string> {
  return { number, client, county: 'Travis' };
}

/** ULID as the package generates ids: 26 Crockford base32 characters. */
export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The millisecond timestamp a ULID was made at. */
export function ulidTime(id: string): number {
  return [...id.slice(0, 10)].reduce((time, char) => time * 32 + CROCKFORD.indexOf(char), 0);
}
