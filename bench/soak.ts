import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize } from './measure.util.js';
import type { LoadSpec } from './http/load-runner.js';
import { load, rssOf, runScript, startServer, stopServer } from './http/server-process.util.js';

/**
 * `npm run bench:soak` (`-- --minutes N`, default 10): the package on fastify under a steady
 * mix of reads and durable writes, its heap measured after a full GC every 5 s. Heap growth
 * compares the median of the last fifth of the run with that of the second fifth (the first
 * is warm-up); writes bench/soak.json, which BENCHMARKS.md quotes.
 */
const minutesArg = process.argv.indexOf('--minutes');
const minutes = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 10;
const log = (line: string) => process.stderr.write(`[soak] ${line}\n`);
const dir = mkdtempSync(join(tmpdir(), 'nde-bench-soak-'));
const started = Date.now();
try {
  log('loading 100,000 records...');
  await runScript('bench-seed', ['package', dir, '100000']);
  const server = await startServer('package', 'fastify', dir, { nodeArgs: ['--expose-gc'], args: ['--report-heap'] });
  const scenarios: LoadSpec['scenario'][] = ['get', 'list', 'post', 'patch'];
  let requests = 0;
  let failures = 0;
  try {
    for (let chunk = 0; Date.now() - started < minutes * 60_000; chunk++) {
      const result = await load(server, { scenario: scenarios[chunk % scenarios.length]!, connections: 20, seconds: 15, idsFile: join(dir, 'ids.json') });
      requests += result.total;
      failures += result.failures;
      if (chunk % 4 === 3)
        log(
          `${Math.round((Date.now() - started) / 1000)} s, ${requests.toLocaleString('en')} requests, RSS ${Math.round(rssOf(server.child.pid!).anon)} MiB anon`,
        );
    }
  } finally {
    await stopServer(server);
  }
  const samples = server.lines.filter((line) => line.startsWith('heap ')).map((line) => JSON.parse(line.slice(5)) as { at: number; heapUsed: number });
  const first = samples[0]!.at;
  const window = (from: number, to: number) => summarize(samples.filter((s) => s.at - first >= from && s.at - first < to).map((s) => s.heapUsed)).median;
  const span = samples[samples.length - 1]!.at - first;
  const baseline = window(span * 0.2, span * 0.4);
  const final = window(span * 0.8, span + 1);
  const report = {
    date: new Date().toISOString(),
    minutes,
    requests,
    failures,
    heapAfterGcMiB: { baseline: baseline / 2 ** 20, final: final / 2 ** 20 },
    growth: final / baseline - 1,
    samples: samples.map((s) => ({ seconds: Math.round((s.at - first) / 1000), heapMiB: +(s.heapUsed / 2 ** 20).toFixed(2) })),
  };
  writeFileSync(fileURLToPath(new URL('../soak.json', import.meta.url)), `${JSON.stringify(report, null, 2)}\n`);
  log(
    `heap after GC: ${report.heapAfterGcMiB.baseline.toFixed(1)} → ${report.heapAfterGcMiB.final.toFixed(1)} MiB (${(report.growth * 100).toFixed(1)}%), ${failures} failures`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
