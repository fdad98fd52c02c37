import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AppKind } from './http/bench-apps.js';
import type { HttpFigures, HttpReport, HttpRow } from './http/http.suite.js';
import type { ComparisonRow } from './in-process.suite.js';
import type { Summary } from './measure.util.js';
import type { ScaleRow } from './scale.suite.js';

export interface BenchEnvironment {
  date: string;
  cpu: string;
  memory: string;
  node: string;
  package: string;
  versions: Record<string, string>;
  mode: 'quick' | 'full';
}

export interface SoakReport {
  date: string;
  minutes: number;
  requests: number;
  failures: number;
  heapAfterGcMiB: { baseline: number; final: number };
  growth: number;
}

export interface BenchResults {
  environment: BenchEnvironment;
  options: { inProcess: { rounds: number; seconds: number }; http: { rounds: number; seconds: number }; scale: { rounds: number; seconds: number } };
  inProcess: ComparisonRow[];
  scale: ScaleRow[];
  http?: HttpReport;
  soak?: SoakReport;
  replication?: ReplicationReport;
}

/** Throughput of one setup of `npm run bench:replication`. */
export interface ReplicationFigures {
  writesPerSecond: number;
  writeP99: number;
  readsPerSecond: number;
  readP99: number;
  failures: number;
}

/** What `npm run bench:replication` measured (bench/replication.json). */
export interface ReplicationReport {
  date: string;
  seconds: number;
  connections: number;
  seeded: number;
  /** By setup: one instance without replication, three replicated ones. */
  setups: Record<string, ReplicationFigures>;
}

const APP_NAMES: Record<AppKind, string> = {
  package: 'package',
  'package-cached': 'package, @Cached',
  'package-context': 'package, requestContext: true',
  'raw-lmdb': 'raw lmdb (ceiling)',
  'typeorm-normal': 'TypeORM + SQLite (NORMAL)',
  'typeorm-full': 'TypeORM + SQLite (FULL)',
};

const int = (n: number) => (n > 0 && n < 10 ? n.toFixed(2) : Math.round(n).toLocaleString('en'));
const pct = (n: number) => `${Math.round(n * 100)}%`;
const times = (n: number) => `${n.toFixed(1)}x`;
const range = (s: Summary) => `${int(s.median)} (${int(s.min)}–${int(s.max)})`;

/** BENCHMARKS.md: every table of one run, the targets checked against it, and the notes on what bounds each figure. */
export function renderReport(results: BenchResults): string {
  const { environment: env } = results;
  const lines = [
    '# Benchmarks',
    '',
    `Measured ${env.date} on ${env.cpu} (${env.memory}), Node ${env.node}, nestjs-declarative-entities ${env.package}; ` +
      Object.entries(env.versions)
        .map(([name, version]) => `${name} ${version}`)
        .join(', ') +
      '.',
    `Mode: ${env.mode}. Every comparison runs in the same run on the same machine, A/B interleaved; each figure is the median`,
    `of the runs with min–max (in-process: ${results.options.inProcess.rounds} runs of ${results.options.inProcess.seconds} s; HTTP: ` +
      `${results.options.http.rounds} runs of ${results.options.http.seconds} s each).`,
    'Reproduce with `npm run bench` (about 30 minutes; `npm run bench -- --quick` is a short smoke run, `--only http|scale|in-process`',
    'one suite) and `npm run bench:soak` for the soak section. Load comes from autocannon in a process of its own.',
    '',
  ];
  lines.push(...targets(results), '');
  if (results.http) lines.push(...httpSections(results.http));
  if (results.inProcess.length > 0) lines.push(...inProcessSection(results.inProcess));
  if (results.scale.length > 0) lines.push(...scaleSection(results.scale));
  if (results.soak) lines.push(...soakSection(results.soak));
  if (results.replication) lines.push(...replicationSection(results.replication));
  const notes = fileURLToPath(new URL('../notes.md', import.meta.url));
  if (existsSync(notes)) lines.push(readFileSync(notes, 'utf8').trimEnd(), '');
  return lines.join('\n');
}

function figure(http: HttpReport, platform: string, scenario: string, connections: number, app: AppKind): HttpFigures | undefined {
  return http.rows.find((row) => row.platform === platform && row.scenario === scenario && row.connections === connections)?.apps[app];
}

function targets(results: BenchResults): string[] {
  const rows: [string, string, boolean | undefined][] = [];
  const check = (name: string, value: number | undefined, goal: number, show: (n: number) => string, below = false) => {
    if (value === undefined || Number.isNaN(value)) return;
    rows.push([name, show(value), below ? value <= goal : value >= goal]);
  };
  const http = results.http;
  if (http) {
    for (const platform of ['fastify', 'express']) {
      const rps = (scenario: string, app: AppKind, connections = 10) => figure(http, platform, scenario, connections, app)?.requestsPerSecond.median;
      const ratio = (scenario: string, app: AppKind, own: AppKind = 'package') => {
        const a = rps(scenario, own);
        const b = rps(scenario, app);
        return a !== undefined && b ? a / b : undefined;
      };
      for (const [scenario, label, ofCeiling, ofPeer] of [
        ['get', 'GET by id', 0.8, 3],
        ['list', 'list of 50', 0.8, 2.5],
        ['post', 'POST', 0.6, 1.5],
        ['patch', 'PATCH', 0.6, 1.5],
      ] as const) {
        check(`${platform}: ${label} ≥ ${pct(ofCeiling)} of the raw ceiling`, ratio(scenario, 'raw-lmdb'), ofCeiling, pct);
        check(`${platform}: ${label} ≥ ${ofPeer}x TypeORM + SQLite (NORMAL)`, ratio(scenario, 'typeorm-normal'), ofPeer, times);
      }
      const c10 = rps('post', 'package', 10);
      const c200 = rps('post', 'package', 200);
      check(`${platform}: durable POST at 200 connections ≥ 3x at 10`, c10 && c200 ? c200 / c10 : undefined, 3, times);
      const anon = (app: AppKind) => Math.max(...http.rows.filter((row) => row.platform === platform).map((row) => row.apps[app]?.rss.anon ?? 0));
      check(`${platform}: server anonymous RSS ≤ 2x the ceiling's`, anon('package') / anon('raw-lmdb'), 2, times, true);
    }
  }
  for (const row of results.inProcess) {
    const goal = /≥ (\d+)%/.exec(row.target);
    if (goal) check(`in-process: ${row.operation} ${row.target}`, row.ratio, Number(goal[1]) / 100, pct);
  }
  const largest = results.scale[results.scale.length - 1];
  const smallest = results.scale[0];
  if (largest && smallest && largest !== smallest) {
    check(`start-up on ${int(largest.records)} records < 2 s`, largest.startupMs / 1000, 2, (n) => `${n.toFixed(2)} s`, true);
    const p99Target = `GET p99 at ${int(largest.records)} ≤ 1.5x its value at ${int(smallest.records)}`;
    // autocannon reports whole milliseconds: two p99s under one are equal as far as it can tell, not a ratio of 0.
    if (largest.getP99 < 1 && smallest.getP99 < 1) rows.push([p99Target, 'both under 1 ms', true]);
    else check(p99Target, largest.getP99 / Math.max(smallest.getP99, 1), 1.5, times, true);
  }
  if (results.soak) check(`soak: heap after GC grows ≤ 10% over ${results.soak.minutes} min`, results.soak.growth, 0.1, pct, true);
  return [
    '## Targets',
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...rows.map(([name, value, met]) => `| ${name} | ${value} | ${met ? 'yes' : '**no**'} |`),
  ];
}

function httpTable(rows: HttpRow[], apps: AppKind[], reference: AppKind): string[] {
  return [
    `| route | connections | ${apps.map((app) => `${APP_NAMES[app]} req/s (min–max), p50/p99 ms`).join(' | ')} | package ÷ ${APP_NAMES[reference]} |`,
    `|---|---|${apps.map(() => '---').join('|')}|---|`,
    ...rows.map((row) => {
      const cells = apps.map((app) => {
        const f = row.apps[app];
        return f ? `${range(f.requestsPerSecond)}, ${f.p50}/${f.p99}${f.failures ? `, ${int(f.failures)} failed` : ''}` : '–';
      });
      const a = row.apps.package?.requestsPerSecond.median;
      const b = row.apps[reference]?.requestsPerSecond.median;
      return `| ${routeOf(row)} | ${row.connections} | ${cells.join(' | ')} | ${a !== undefined && b ? pct(a / b) : '–'} |`;
    }),
  ];
}

const COST_APPS: AppKind[] = ['package', 'raw-lmdb', 'typeorm-normal', 'typeorm-full'];

/**
 * What each request cost the server: CPU across its threads, and for writes the bytes the disk
 * was sent for it, which is what a commit's sync waits on.
 */
function costTable(rows: HttpRow[]): string[] {
  return [
    'Server cost per request (medians over the rounds): CPU of all its threads, and for writes the KiB the disk holding its store was sent.',
    '',
    `| route | connections | ${COST_APPS.map((app) => APP_NAMES[app]).join(' | ')} |`,
    `|---|---|${COST_APPS.map(() => '---').join('|')}|`,
    ...rows.map((row) => {
      const cells = COST_APPS.map((app) => {
        const cost = row.apps[app]?.cost;
        if (!cost) return '–';
        const reads = row.scenario === 'get' || row.scenario === 'list';
        return reads || cost.writtenKiB === undefined ? `${int(cost.cpuMicros)} µs` : `${int(cost.cpuMicros)} µs, ${int(cost.writtenKiB)} KiB`;
      });
      return `| ${routeOf(row)} | ${row.connections} | ${cells.join(' | ')} |`;
    }),
  ];
}

function routeOf(row: HttpRow): string {
  return { get: '`GET /P/:id`', list: '`GET /P?client&county&limit=50`', post: '`POST /P`', patch: '`PATCH /P/:id` + If-Match' }[row.scenario];
}

function httpSections(http: HttpReport): string[] {
  const lines: string[] = [
    '## HTTP: the package against the ceiling and the peer',
    '',
    `Each app is a server process of its own on a store of ${int(http.records)} records (same data), loaded by autocannon.`,
    'The ceiling is a bare Nest 12 controller over hand-written lmdb-js doing the same puts durably (no validation, permissions,',
    'cache or error mapping); the peer is NestJS 12 + @nestjs/typeorm + TypeORM + better-sqlite3 in WAL mode with a',
    'ValidationPipe DTO, a unique index, the composite index and an optimistic version check (it writes no event, history or audit).',
    'Stores were loaded at: ' +
      Object.entries(http.seeding)
        .map(([app, rate]) => `${APP_NAMES[app as AppKind]} ${int(rate)} records/s`)
        .join(', ') +
      '.',
    '',
  ];
  for (const platform of ['fastify', 'express']) {
    const rows = http.rows.filter((row) => row.platform === platform);
    if (rows.length === 0) continue;
    lines.push(`### ${platform}`, '', ...httpTable(rows, ['package', 'raw-lmdb', 'typeorm-normal', 'typeorm-full'], 'raw-lmdb'), '');
    const peer = rows.map((row) => {
      const a = row.apps.package?.requestsPerSecond.median;
      const b = row.apps['typeorm-normal']?.requestsPerSecond.median;
      const c = row.apps['typeorm-full']?.requestsPerSecond.median;
      return `| ${routeOf(row)} | ${row.connections} | ${a && b ? times(a / b) : '–'} | ${a && c ? times(a / c) : '–'} |`;
    });
    lines.push('Against the peer:', '', '| route | connections | ÷ SQLite NORMAL | ÷ SQLite FULL |', '|---|---|---|---|', ...peer, '');
    lines.push(...costTable(rows), '');
  }
  lines.push('### The cache: the same reads with `@Cached` on and off', '');
  lines.push('| platform | route | without cache req/s, p50/p99 ms | with `@Cached` req/s, p50/p99 ms | gain |', '|---|---|---|---|---|');
  for (const row of http.rows.filter((r) => r.apps['package-cached'])) {
    const off = row.apps.package!;
    const on = row.apps['package-cached']!;
    lines.push(
      `| ${row.platform} | ${routeOf(row)} | ${range(off.requestsPerSecond)}, ${off.p50}/${off.p99} | ${range(on.requestsPerSecond)}, ${on.p50}/${on.p99} | ` +
        `${pct(on.requestsPerSecond.median / off.requestsPerSecond.median - 1)} |`,
    );
  }
  lines.push('', "### The request context: the package with `requestContext: 'auto'` (the default) and `true`", '');
  lines.push(
    "| platform | route | connections | 'auto' req/s, p50/p99 ms | true req/s, p50/p99 ms | cost of true | true ÷ raw lmdb (ceiling) |",
    '|---|---|---|---|---|---|---|',
  );
  for (const row of http.rows.filter((r) => r.apps['package-context'])) {
    const auto = row.apps.package!;
    const always = row.apps['package-context']!;
    const ceiling = row.apps['raw-lmdb']?.requestsPerSecond.median;
    lines.push(
      `| ${row.platform} | ${routeOf(row)} | ${row.connections} | ${range(auto.requestsPerSecond)}, ${auto.p50}/${auto.p99} | ${range(always.requestsPerSecond)}, ${always.p50}/${always.p99} | ` +
        `${pct(1 - always.requestsPerSecond.median / auto.requestsPerSecond.median)} | ${ceiling ? pct(always.requestsPerSecond.median / ceiling) : '–'} |`,
    );
  }
  lines.push(
    '',
    '### Server memory (peak over the runs, MiB)',
    '',
    '| platform | app | anonymous (heap and the like) | file-backed (lmdb map, SQLite cache) |',
    '|---|---|---|---|',
  );
  for (const platform of ['fastify', 'express']) {
    for (const app of Object.keys(APP_NAMES) as AppKind[]) {
      const peaks = http.rows.filter((row) => row.platform === platform && row.apps[app]).map((row) => row.apps[app]!.rss);
      if (peaks.length === 0) continue;
      lines.push(`| ${platform} | ${APP_NAMES[app]} | ${int(Math.max(...peaks.map((p) => p.anon)))} | ${int(Math.max(...peaks.map((p) => p.file)))} |`);
    }
  }
  lines.push('');
  return lines;
}

function inProcessSection(rows: ComparisonRow[]): string[] {
  return [
    '## In-process (no HTTP): the repository against hand-written lmdb-js',
    '',
    "The entity is shaped like the sample's permits (7 fields, a 3-field `@Composite`, a unique `@Index`, `@Historize` on two",
    'fields, `@Audited`). The raw reference does the same logical work by hand: the same puts in one transaction for a',
    'write (record, index entries, event, history, audit, change mark) and waits for the same durability; a get and decode',
    'for a read; an index range scan plus gets for a list.',
    '',
    '| operation | package ops/s (min–max) | raw lmdb-js ops/s (min–max) | ratio | target |',
    '|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.operation} | ${range(row.package)} | ${range(row.reference)} | ${pct(row.ratio)} | ${row.target} |`),
    '',
  ];
}

function scaleSection(rows: ScaleRow[]): string[] {
  return [
    '## Scale: one store grown from the smallest size to the largest',
    '',
    'At each size the app (fastify) is started on the existing store as a new process, timed until its first answer, and',
    'loaded with 10 connections of random `GET /P/:id` and composite-prefix lists. Bytes per record count the disk blocks of',
    'the whole store (records, indexes, event log, history, audit) over the number of records.',
    '',
    '| records | insert records/s | start-up ms | GET req/s | GET p50/p99 ms | list req/s | list p50/p99 ms | bytes/record | RSS anon/file MiB |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${int(row.records)} | ${int(row.insertPerSecond)} | ${int(row.startupMs)} | ${int(row.getRequestsPerSecond)} | ${row.getP50}/${row.getP99} | ` +
        `${int(row.listRequestsPerSecond)} | ${row.listP50}/${row.listP99} | ${int(row.bytesPerRecord)} | ${int(row.rss.anon)}/${int(row.rss.file)} |`,
    ),
    '',
  ];
}

export function replicationSection(report: ReplicationReport): string[] {
  return [
    '## Replication: one instance against three (`npm run bench:replication`)',
    '',
    `${report.date}: the sample app (Express) serving \`POST /permits\` and then \`GET /permits/:id\` (${int(report.seeded)} permits seeded),`,
    `${report.connections} connections per instance for ${report.seconds} s each, the load spread over the instances. Everything runs on this`,
    'machine: with replication, three nats-server processes (an R3 stream), three app instances and the load generator share its cores.',
    '',
    '| setup | writes/s | write p99 | reads/s | read p99 | failed |',
    '|---|---|---|---|---|---|',
    ...Object.entries(report.setups).map(
      ([setup, f]) => `| ${setup} | ${int(f.writesPerSecond)} | ${f.writeP99} ms | ${int(f.readsPerSecond)} | ${f.readP99} ms | ${int(f.failures)} |`,
    ),
    '',
    'Reads stay local to each instance, so they add up with instances on their own machines; here all share two cores. A replicated',
    'write is decided, appended to the stream (a Raft round among the NATS servers), applied and only then answered; each instance',
    'sends one message at a time, with the writes that queued up meanwhile, and an instance that loses the race for the next stream',
    'position to another decides again: writes are bounded by that round trip and by the retries, not by LMDB.',
    '',
  ];
}

function soakSection(soak: SoakReport): string[] {
  return [
    '## Soak (`npm run bench:soak`)',
    '',
    `${soak.date}: ${soak.minutes} minutes of reads and durable writes in turn (fastify, 20 connections, 100,000 records to start),`,
    `${int(soak.requests)} requests, ${int(soak.failures)} failed. Heap after a full GC: ${soak.heapAfterGcMiB.baseline.toFixed(1)} MiB in the`,
    `second fifth of the run, ${soak.heapAfterGcMiB.final.toFixed(1)} MiB in the last (${pct(soak.growth)}). Every sample is in bench/soak.json.`,
    '',
  ];
}
