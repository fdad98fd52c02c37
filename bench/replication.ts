import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { replicationSection, type ReplicationFigures as Figures, type ReplicationReport } from './report.util.js';

/**
 * `npm run bench:replication`: write and read throughput of the sample served by one instance
 * without replication, then by three replicated instances on a three-node NATS cluster
 * (`sample/dist/replicated.js`), all on this machine, the load spread over the instances.
 * Writes bench/replication.json; `npm run bench:replication` then renders BENCHMARKS.md again with it.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const SECONDS = Number(process.env.SECONDS ?? 10);
const CONNECTIONS = 10;
const SEED = 2_000;
const ADMIN = { 'x-user': 'admin:admin' };
const JSON_ADMIN = { ...ADMIN, 'content-type': 'application/json' };
const log = (line: string) => process.stderr.write(`[bench:replication] ${line}\n`);
const run = Date.now().toString(36);

function body(n: number, prefix: string): string {
  return JSON.stringify({ number: `${prefix}-${n}`, client: `Client ${n % 200}`, county: n % 2 ? 'Travis' : 'Hays' });
}

async function waitUntilServing(bases: string[], child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (const base of bases) {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the sample exited (${child.exitCode}) before serving ${base}`);
      if (Date.now() > deadline) throw new Error(`${base} did not answer within 60 s`);
      const status = await fetch(`${base}/permits?limit=1`, { headers: ADMIN }).then(
        (response) => response.arrayBuffer().then(() => response.status),
        () => 0,
      );
      if (status === 200) break;
      await delay(200);
    }
  }
}

/** Seeds permits through the first instance; the ids, and the seq every instance must reach. */
async function seed(base: string): Promise<{ ids: string[]; seq: string | null }> {
  const ids: string[] = [];
  let seq: string | null = null;
  for (let from = 0; from < SEED; from += 500) {
    const items = Array.from({ length: 500 }, (_, i) => JSON.parse(body(from + i, `seed-${run}`)) as unknown);
    const response = await fetch(`${base}/permits/batch`, { method: 'POST', headers: JSON_ADMIN, body: JSON.stringify(items) });
    if (response.status !== 201) throw new Error(`seeding answered ${response.status}: ${await response.text()}`);
    seq = response.headers.get('x-entities-seq');
    ids.push(...((await response.json()) as Array<{ id: string }>).map((record) => record.id));
  }
  return { ids, seq };
}

/** autocannon against every base at once, `CONNECTIONS` each; requests per second summed, p99 the worst. */
async function load(bases: string[], requests: (base: string, i: number) => autocannon.Request[]): Promise<{ rps: number; p99: number; failures: number }> {
  const results = await Promise.all(
    bases.map((base, i) => autocannon({ url: base, connections: CONNECTIONS, duration: SECONDS, requests: requests(base, i), headers: JSON_ADMIN })),
  );
  return {
    rps: Math.round(results.reduce((sum, result) => sum + result.requests.average, 0)),
    p99: Math.max(...results.map((result) => result.latency.p99)),
    failures: results.reduce((sum, result) => sum + result.non2xx + result.errors + result.timeouts, 0),
  };
}

async function measure(bases: string[], ids: string[]): Promise<Figures> {
  let serial = 0;
  const writes = await load(bases, (_, i) => [{ method: 'POST', path: '/permits', setupRequest: (req) => ({ ...req, body: body(serial++, `w${i}-${run}`) }) }]);
  const reads = await load(bases, () => [
    { method: 'GET', setupRequest: (req) => ({ ...req, path: `/permits/${ids[Math.floor(Math.random() * ids.length)]}` }) },
  ]);
  return { writesPerSecond: writes.rps, writeP99: writes.p99, readsPerSecond: reads.rps, readP99: reads.p99, failures: writes.failures + reads.failures };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

const dir = mkdtempSync(join(tmpdir(), 'nde-bench-replication-'));
const port = 23_000 + Math.floor(Math.random() * 200) * 10;
const figures: Record<string, Figures> = {};
try {
  log('one instance, no replication');
  const single = spawn(process.execPath, [join(root, 'sample/dist/main.js')], {
    env: { ...process.env, PORT: String(port), DATA_PATH: join(dir, 'single'), NODE_ENV: 'production' },
    stdio: 'ignore',
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitUntilServing([base], single);
    const { ids } = await seed(base);
    figures['1 instance'] = await measure([base], ids);
  } finally {
    await stop(single);
  }

  log('three instances, three NATS servers');
  mkdirSync(join(dir, 'replicated'));
  const replicated = spawn(process.execPath, [join(root, 'sample/dist/replicated.js')], {
    env: { ...process.env, PORT: String(port), NATS_PORT: String(port + 3), DATA_PATH: join(dir, 'replicated'), NODE_ENV: 'production' },
    stdio: 'ignore',
  });
  try {
    const bases = [0, 1, 2].map((i) => `http://127.0.0.1:${port + i}`);
    await waitUntilServing(bases, replicated);
    const { ids, seq } = await seed(bases[0]!);
    for (const base of bases) await fetch(`${base}/permits?limit=1`, { headers: { ...ADMIN, 'x-entities-min-seq': seq ?? '0' } }).then((r) => r.arrayBuffer());
    figures['3 instances, replicated'] = await measure(bases, ids);
  } finally {
    await stop(replicated);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const report: ReplicationReport = { date: new Date().toISOString().slice(0, 10), seconds: SECONDS, connections: CONNECTIONS, seeded: SEED, setups: figures };
writeFileSync(join(root, 'bench/replication.json'), `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${replicationSection(report).join('\n')}\n`);
