import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize, type Summary } from '../measure.util.js';
import type { AppKind } from './bench-apps.js';
import type { LoadSpec } from './load-runner.js';
import type { Platform } from './nest-app.util.js';
import { load, runScript, startServer, stopServer, type BenchServer, type Rss, type ServerCost } from './server-process.util.js';

export interface HttpOptions {
  rounds: number;
  seconds: number;
  records: number;
  platforms: Platform[];
  writeConnections: number[];
  /** A short unrecorded run per app first (JIT, page cache). */
  warmup: boolean;
}

export interface HttpScenario {
  scenario: LoadSpec['scenario'];
  connections: number;
}

/** One app's figures for one scenario on one platform: req/s over the rounds, median latencies, peak memory. */
export interface HttpFigures {
  requestsPerSecond: Summary;
  p50: number;
  p99: number;
  failures: number;
  rss: Rss;
  /** Medians over the rounds. */
  cost: ServerCost;
}

export interface HttpRow extends HttpScenario {
  platform: Platform;
  apps: Partial<Record<AppKind, HttpFigures>>;
}

export interface HttpReport {
  records: number;
  /** Records per second each store was loaded at (in batches, before the runs). */
  seeding: Partial<Record<AppKind, number>>;
  rows: HttpRow[];
}

const READ_APPS: AppKind[] = ['package', 'package-cached', 'package-context', 'raw-lmdb', 'typeorm-normal', 'typeorm-full'];
const WRITE_APPS: AppKind[] = ['package', 'package-context', 'raw-lmdb', 'typeorm-normal', 'typeorm-full'];

/**
 * Every app as a server process of its own, loaded by autocannon from another process; the
 * apps take turns within each round (the order rotating every round), so each figure's runs
 * are interleaved with its references'.
 */
export async function runHttpSuite(options: HttpOptions, log: (line: string) => void): Promise<HttpReport> {
  const base = mkdtempSync(join(tmpdir(), 'nde-bench-http-'));
  const dirOf = (kind: AppKind) => join(base, kind);
  const seeding: HttpReport['seeding'] = {};
  const rows: HttpRow[] = [];
  try {
    for (const kind of ['package', 'raw-lmdb', 'typeorm-normal'] as const) {
      log(`loading ${options.records.toLocaleString('en')} records into ${kind}...`);
      const [added, ms] = (await runScript('bench-seed', [kind, dirOf(kind), String(options.records)])).trim().split(' ').slice(1).map(Number);
      seeding[kind] = (added! / ms!) * 1000;
    }
    cpSync(dirOf('package'), dirOf('package-cached'), { recursive: true });
    cpSync(dirOf('package'), dirOf('package-context'), { recursive: true });
    cpSync(dirOf('typeorm-normal'), dirOf('typeorm-full'), { recursive: true });

    const scenarios: HttpScenario[] = [
      { scenario: 'get', connections: 10 },
      { scenario: 'list', connections: 10 },
      ...options.writeConnections.map((connections) => ({ scenario: 'post' as const, connections })),
      { scenario: 'patch', connections: 10 },
    ];
    for (const platform of options.platforms) {
      const servers = new Map<AppKind, BenchServer>();
      try {
        for (const kind of READ_APPS) servers.set(kind, await startServer(kind, platform, dirOf(kind)));
        if (options.warmup) log(`${platform}: warming up...`);
        for (const server of options.warmup ? servers.values() : []) {
          await load(server, { scenario: 'get', connections: 10, seconds: 1, idsFile: join(dirOf(server.kind), 'ids.json') });
          if (server.kind !== 'package-cached') {
            await load(server, { scenario: 'post', connections: 10, seconds: 1, idsFile: join(dirOf(server.kind), 'ids.json') });
          }
        }
        for (const { scenario, connections } of scenarios) {
          const apps = scenario === 'get' || scenario === 'list' ? READ_APPS : WRITE_APPS;
          const runs = new Map<AppKind, { rps: number[]; p50: number[]; p99: number[]; cpu: number[]; written: number[]; failures: number; rss: Rss }>();
          for (let round = 0; round < options.rounds; round++) {
            const order = apps.map((_, k) => apps[(k + round) % apps.length]!);
            for (const kind of order) {
              const result = await load(servers.get(kind)!, { scenario, connections, seconds: options.seconds, idsFile: join(dirOf(kind), 'ids.json') });
              const entry = runs.get(kind) ?? { rps: [], p50: [], p99: [], cpu: [], written: [], failures: 0, rss: { anon: 0, file: 0 } };
              entry.rps.push(result.requestsPerSecond);
              entry.p50.push(result.p50);
              entry.p99.push(result.p99);
              entry.cpu.push(result.cost.cpuMicros);
              if (result.cost.writtenKiB !== undefined) entry.written.push(result.cost.writtenKiB);
              entry.failures += result.failures;
              entry.rss = { anon: Math.max(entry.rss.anon, result.rss.anon), file: Math.max(entry.rss.file, result.rss.file) };
              runs.set(kind, entry);
            }
          }
          const row: HttpRow = { platform, scenario, connections, apps: {} };
          for (const [kind, entry] of runs) {
            row.apps[kind] = {
              requestsPerSecond: summarize(entry.rps),
              p50: summarize(entry.p50).median,
              p99: summarize(entry.p99).median,
              failures: entry.failures,
              rss: entry.rss,
              cost: { cpuMicros: summarize(entry.cpu).median, ...(entry.written.length > 0 && { writtenKiB: summarize(entry.written).median }) },
            };
          }
          rows.push(row);
          const figure = (kind: AppKind) => {
            const figures = row.apps[kind];
            return `${Math.round(figures?.requestsPerSecond.median ?? 0)}${figures?.failures ? ` (${figures.failures} failed)` : ''}`;
          };
          log(`${platform} ${scenario} c=${connections}: package ${figure('package')}, raw ${figure('raw-lmdb')}, typeorm ${figure('typeorm-normal')} req/s`);
        }
      } finally {
        for (const server of servers.values()) await stopServer(server);
      }
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  return { records: options.records, seeding, rows };
}
