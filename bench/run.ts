import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runHttpSuite, type HttpOptions } from './http/http.suite.js';
import { runInProcessSuite, type InProcessOptions } from './in-process.suite.js';
import { renderReport, type BenchEnvironment } from './report.util.js';
import { runScaleSuite, type ScaleOptions } from './scale.suite.js';

/**
 * `npm run bench` measures and writes BENCHMARKS.md and bench/results.json;
 * `npm run bench -- --quick` runs every suite briefly on small data (a smoke test for CI)
 * and writes its output under bench/out/ only. No number is asserted: timing is a
 * benchmark's job, never a test's. `--only <suite>` (in-process, scale, http) runs one suite;
 * `--render` rewrites BENCHMARKS.md from the last full run's bench/results.json, bench/soak.json and bench/replication.json.
 * For A/B runs while working on one figure, `--records <n>`, `--rounds <n>`, `--seconds <s>` and
 * `--platform <fastify|express>` change the HTTP suite's options; the output then goes to bench/out/.
 */
const quick = process.argv.includes('--quick');
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? process.argv[onlyArg + 1] : undefined;
const root = fileURLToPath(new URL('../../', import.meta.url));
const options: { inProcess: InProcessOptions; scale: ScaleOptions; http: HttpOptions } = quick
  ? {
      inProcess: { rounds: 3, seconds: 0.25, records: 5_000, scanRecords: 5_000 },
      scale: { sizes: [2_000, 10_000], rounds: 1, seconds: 1 },
      http: { rounds: 1, seconds: 1, records: 2_000, platforms: ['fastify', 'express'], writeConnections: [10, 200], warmup: false },
    }
  : {
      inProcess: { rounds: 5, seconds: 2, records: 1_000_000, scanRecords: 100_000 },
      scale: { sizes: [10_000, 100_000, 1_000_000], rounds: 3, seconds: 5 },
      http: { rounds: 3, seconds: 5, records: 1_000_000, platforms: ['fastify', 'express'], writeConnections: [10, 50, 200], warmup: true },
    };

const argument = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const httpOverrides = {
  ...(argument('--records') !== undefined && { records: Number(argument('--records')) }),
  ...(argument('--rounds') !== undefined && { rounds: Number(argument('--rounds')) }),
  ...(argument('--seconds') !== undefined && { seconds: Number(argument('--seconds')) }),
  ...(argument('--platform') !== undefined && { platforms: [argument('--platform') as HttpOptions['platforms'][number]] }),
};
Object.assign(options.http, httpOverrides);
const tuned = Object.keys(httpOverrides).length > 0;

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const started = Date.now();
const version = (name: string) => JSON.parse(readFileSync(`${root}node_modules/${name}/package.json`, 'utf8')).version as string;
const environment: BenchEnvironment = {
  date: new Date().toISOString(),
  cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
  memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
  node: process.version,
  package: JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version as string,
  versions: Object.fromEntries(['lmdb', '@nestjs/core', 'fastify', 'express', 'typeorm', 'better-sqlite3', 'autocannon'].map((name) => [name, version(name)])),
  mode: quick ? 'quick' : 'full',
};
// `--render` writes BENCHMARKS.md again from bench/results.json, e.g. after `npm run bench:soak`.
const render = process.argv.includes('--render');
const run = (suite: string) => !render && (only === undefined || only === suite);
const previous = render ? JSON.parse(readFileSync(`${root}bench/results.json`, 'utf8')) : undefined;
const inProcess = run('in-process') ? await runInProcessSuite(options.inProcess, log) : (previous?.inProcess ?? []);
const scale = run('scale') ? await runScaleSuite(options.scale, log) : (previous?.scale ?? []);
const http = run('http') ? await runHttpSuite(options.http, log) : previous?.http;
const soakFile = `${root}bench/soak.json`;
const soak = existsSync(soakFile) ? JSON.parse(readFileSync(soakFile, 'utf8')) : undefined;
const replicationFile = `${root}bench/replication.json`;
const replication = existsSync(replicationFile) ? JSON.parse(readFileSync(replicationFile, 'utf8')) : undefined;

const results = previous ? { ...previous } : { environment, options, inProcess, scale, http };
const markdown = renderReport({ ...results, soak: quick ? undefined : soak, replication: quick ? undefined : replication });
if (quick || only !== undefined || tuned) {
  mkdirSync(`${root}bench/out`, { recursive: true });
  writeFileSync(`${root}bench/out/report.md`, markdown);
  writeFileSync(`${root}bench/out/results.json`, JSON.stringify(results, null, 2));
} else {
  writeFileSync(`${root}BENCHMARKS.md`, markdown);
  writeFileSync(`${root}bench/results.json`, `${JSON.stringify(results, null, 2)}\n`);
}
process.stdout.write(markdown);
log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
