import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize } from './measure.util.js';
import { load, runScript, startServer, stopServer, type Rss } from './http/server-process.util.js';

export interface ScaleOptions {
  sizes: number[];
  rounds: number;
  seconds: number;
}

export interface ScaleRow {
  records: number;
  /** Records per second while growing the store to this size (createMany, 1000 a batch). */
  insertPerSecond: number;
  /** Spawning the app on the existing store until its first answer, in ms (median of `rounds` starts). */
  startupMs: number;
  getRequestsPerSecond: number;
  getP50: number;
  getP99: number;
  listRequestsPerSecond: number;
  listP50: number;
  listP99: number;
  /** Disk blocks of the store per record (records, indexes, event log, history, audit). */
  bytesPerRecord: number;
  rss: Rss;
}

/**
 * One package store grown step by step (10k → 100k → 1M records in the full run); at each
 * size the app is started on it as a server process, timed, and loaded with reads.
 */
export async function runScaleSuite(options: ScaleOptions, log: (line: string) => void): Promise<ScaleRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nde-bench-scale-'));
  const rows: ScaleRow[] = [];
  try {
    for (const size of options.sizes) {
      log(`scale: growing the store to ${size.toLocaleString('en')} records...`);
      const [added, ms] = (await runScript('bench-seed', ['package', dir, String(size)])).trim().split(' ').slice(1).map(Number);
      const startups: number[] = [];
      const get = { rps: [] as number[], p50: [] as number[], p99: [] as number[] };
      const list = { rps: [] as number[], p50: [] as number[], p99: [] as number[] };
      const rss: Rss = { anon: 0, file: 0 };
      for (let round = 0; round < options.rounds; round++) {
        const server = await startServer('package', 'fastify', dir);
        try {
          startups.push(server.startupMs);
          for (const [scenario, figures] of [
            ['get', get],
            ['list', list],
          ] as const) {
            const result = await load(server, { scenario, connections: 10, seconds: options.seconds, idsFile: join(dir, 'ids.json') });
            figures.rps.push(result.requestsPerSecond);
            figures.p50.push(result.p50);
            figures.p99.push(result.p99);
            rss.anon = Math.max(rss.anon, result.rss.anon);
            rss.file = Math.max(rss.file, result.rss.file);
          }
        } finally {
          await stopServer(server);
        }
      }
      const median = (values: number[]) => summarize(values).median;
      rows.push({
        records: size,
        insertPerSecond: (added! / ms!) * 1000,
        startupMs: median(startups),
        getRequestsPerSecond: median(get.rps),
        getP50: median(get.p50),
        getP99: median(get.p99),
        listRequestsPerSecond: median(list.rps),
        listP50: median(list.p50),
        listP99: median(list.p99),
        bytesPerRecord: (statSync(join(dir, 'data.mdb')).blocks * 512) / size,
        rss,
      });
      log(`scale ${size}: start-up ${Math.round(median(startups))} ms, GET p99 ${median(get.p99)} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
