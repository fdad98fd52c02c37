import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Logger } from '@nestjs/common';

/**
 * Three instances of the sample, each on its own data directory, kept equal through a
 * three-node NATS JetStream cluster started here too: `npm run start:replicated`. Instances
 * listen on PORT, PORT + 1 and PORT + 2 (default 3001-3003); the NATS servers take NATS_PORT to
 * NATS_PORT + 2 for clients (default 4301), + 10 for routes and + 20 for monitoring. Everything
 * lives under DATA_PATH (default ./data-replicated). Needs nats-server (NATS_SERVER names it).
 */
const SIZE = 3;
const READY_MS = 30_000;
const NATS_SERVER = process.env.NATS_SERVER ?? (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server');
const port = Number(process.env.PORT ?? 3001);
const natsPort = Number(process.env.NATS_PORT ?? 4301);
const root = resolve(process.env.DATA_PATH ?? './data-replicated');
const logger = new Logger('Replicated');
const children = new Set<ChildProcess>();
let stopping = false;

function start(command: string, args: string[], env: NodeJS.ProcessEnv, name: string, output: 'inherit' | 'ignore'): void {
  const child = spawn(command, args, { env, stdio: ['ignore', output, output] });
  children.add(child);
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (stopping) return;
    logger.error(`${name} exited (${signal ?? code}); stopping the rest`);
    void stop(1);
  });
  child.on('error', (error) => logger.error(`${name}: ${error.message}`));
}

async function stop(code: number): Promise<void> {
  stopping = true;
  // The instances first: each closes its store and its connection while NATS is still there.
  for (const phase of ['instance', 'nats']) {
    const ending = [...children].filter((child) => (child.spawnfile === NATS_SERVER) === (phase === 'nats'));
    await Promise.all(ending.map((child) => new Promise((done) => (child.once('exit', done), child.kill('SIGTERM')))));
  }
  process.exit(code);
}

/** Resolves once every server reports JetStream ready (a meta leader elected). */
async function natsReady(): Promise<void> {
  const deadline = Date.now() + READY_MS;
  while (Date.now() < deadline) {
    const answers = await Promise.all(
      Array.from({ length: SIZE }, (_, i) =>
        fetch(`http://127.0.0.1:${natsPort + 20 + i}/healthz?js-enabled-only=true`).then(
          (response) => response.ok,
          () => false,
        ),
      ),
    );
    if (answers.every(Boolean)) return;
    await delay(200);
  }
  throw new Error(`the NATS servers were not ready within ${READY_MS} ms`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(0));

const routes = Array.from({ length: SIZE }, (_, i) => `nats-route://127.0.0.1:${natsPort + 10 + i}`);
for (let i = 0; i < SIZE; i++) {
  const store = join(root, `nats-${i + 1}`);
  mkdirSync(store, { recursive: true });
  const config = join(root, `nats-${i + 1}.conf`);
  writeFileSync(
    config,
    [
      `server_name: n${i + 1}`,
      `listen: 127.0.0.1:${natsPort + i}`,
      `http: 127.0.0.1:${natsPort + 20 + i}`,
      `jetstream { store_dir: ${JSON.stringify(store)} }`,
      `cluster { name: sample, listen: 127.0.0.1:${natsPort + 10 + i}, routes: [${routes.filter((_, j) => j !== i).join(', ')}] }`,
    ].join('\n'),
  );
  start(NATS_SERVER, ['-c', config], process.env, `nats-server n${i + 1}`, 'ignore');
}
try {
  await natsReady();
} catch (error) {
  logger.error((error as Error).message);
  await stop(1);
}

const servers = Array.from({ length: SIZE }, (_, i) => `nats://127.0.0.1:${natsPort + i}`);
// One secret for all: a list cursor one instance hands out is continued by any other.
const cursorSecret = process.env.CURSOR_SECRET ?? randomBytes(32).toString('hex');
const main = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
for (let i = 0; i < SIZE; i++) {
  // Each instance talks to its own server first, as it would on its own machine.
  const own = [servers[i]!, ...servers.filter((_, j) => j !== i)];
  const env = { ...process.env, PORT: String(port + i), DATA_PATH: join(root, `instance-${i + 1}`), NATS_SERVERS: own.join(','), CURSOR_SECRET: cursorSecret };
  start(process.execPath, [main], env, `instance ${i + 1}`, 'inherit');
}
logger.log(`3 instances on http://localhost:${port}-${port + 2} (Swagger UI at /docs), NATS on ${servers.join(', ')}; data in ${root}`);
