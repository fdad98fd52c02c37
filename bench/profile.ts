import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { APP_KINDS, createBenchApp, type AppKind } from './http/bench-apps.js';
import type { LoadSpec } from './http/load-runner.js';
import type { Platform } from './http/nest-app.util.js';
import { freePort, runScript } from './http/server-process.util.js';

/**
 * Where does a request's time go? `npm run bench:profile -- <app> <platform> <scenario> <dir>`
 * serves a seeded store (see bench-seed) in this process under the V8 profiler while autocannon
 * loads it from another, then prints the functions with the most self time and writes the
 * profile to bench/out/ (open it in Chrome DevTools).
 */
const [kind = 'package', platform = 'fastify', scenario = 'get', dir, connections = '10'] = process.argv.slice(2) as [
  AppKind,
  Platform,
  LoadSpec['scenario'],
  string,
  string?,
];
if (!APP_KINDS.includes(kind) || !dir) {
  process.stderr.write('usage: npm run bench:profile -- <app> <express|fastify> <get|list|post|patch> <seeded dir> [connections, 10]\n');
  process.exit(2);
}
const app = await createBenchApp(kind, platform, dir);
const port = await freePort();
await app.listen(port, '127.0.0.1');
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
const spec: LoadSpec = { url: `http://127.0.0.1:${port}`, scenario, connections: Number(connections), seconds: 10, idsFile: `${dir}/ids.json` };
const result = await runScript('load-runner', [JSON.stringify(spec)]);
const { profile } = await session.post('Profiler.stop');
await app.close();

const self = new Map<string, number>();
const total = profile.samples?.length ?? 1;
const counts = new Map<number, number>();
for (const id of profile.samples ?? []) counts.set(id, (counts.get(id) ?? 0) + 1);
for (const node of profile.nodes) {
  const frame = node.callFrame;
  const where = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(lib|bench|dist)\//, '$1/')}:${frame.lineNumber + 1}`;
  self.set(where, (self.get(where) ?? 0) + (counts.get(node.id) ?? 0));
}
const out = fileURLToPath(new URL('../out/', import.meta.url));
mkdirSync(out, { recursive: true });
const file = `${out}${kind}-${platform}-${scenario}-${connections}.cpuprofile`;
writeFileSync(file, JSON.stringify(profile));
process.stdout.write(`load: ${result.trim()}\nprofile: ${file}\nself time:\n`);
for (const [where, count] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  process.stdout.write(`${((count / total) * 100).toFixed(1).padStart(5)}%  ${where}\n`);
}
