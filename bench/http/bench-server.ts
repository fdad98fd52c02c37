import { APP_KINDS, createBenchApp, type AppKind } from './bench-apps.js';
import type { Platform } from './nest-app.util.js';

/**
 * One benchmarked server: `node bench/dist/http/bench-server.js <app> <platform> <dir> <port>`.
 * Prints `ready <ms>` once listening (ms since the process started). With `--report-heap`
 * (run under `--expose-gc`) it prints the heap after a full GC every few seconds, for the soak.
 */
const [kind, platform, dir, port] = process.argv.slice(2) as [AppKind, Platform, string, string];
if (!APP_KINDS.includes(kind) || !['express', 'fastify'].includes(platform) || !dir || !port) {
  process.stderr.write(`usage: bench-server <${APP_KINDS.join('|')}> <express|fastify> <dir> <port>\n`);
  process.exit(2);
}
const app = await createBenchApp(kind, platform, dir);
await app.listen(Number(port), '127.0.0.1');
process.stdout.write(`ready ${Math.round(performance.now())}\n`);

const gc = (globalThis as { gc?: () => void }).gc;
if (process.argv.includes('--report-heap') && gc) {
  setInterval(() => {
    gc();
    process.stdout.write(`heap ${JSON.stringify({ at: Date.now(), heapUsed: process.memoryUsage().heapUsed })}\n`);
  }, 5_000).unref();
}
