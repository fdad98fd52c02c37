import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort } from './sample-process.util.js';
import { makeTempDir } from './temp-dir.util.js';

/** Where Debian's package puts the server; `NATS_SERVER` names another. */
export const NATS_SERVER = process.env.NATS_SERVER ?? '/usr/sbin/nats-server';
const HOST = '127.0.0.1';
const READY_MS = 30_000;

/** Why a cluster cannot be started here, or `undefined` when it can. */
export function natsServerMissing(): string | undefined {
  if (!existsSync(NATS_SERVER)) return `no nats-server at ${NATS_SERVER} (set NATS_SERVER)`;
  const version = spawnSync(NATS_SERVER, ['--version'], { encoding: 'utf8' });
  return version.status === 0 ? undefined : `${NATS_SERVER} --version failed: ${version.stderr}`;
}

/** One nats-server of a test cluster, with JetStream on and its store in the cluster's temp directory. */
export class NatsNode {
  private child?: ChildProcess;
  private output = '';

  constructor(
    readonly name: string,
    readonly clientPort: number,
    readonly monitorPort: number,
    private readonly configFile: string,
  ) {}

  get url(): string {
    return `nats://${HOST}:${this.clientPort}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the server printed, for a failing test's message. */
  log(): string {
    return this.output;
  }

  start(): void {
    if (this.running) return;
    const child = spawn(NATS_SERVER, ['-c', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child = child;
  }

  /** Ends the server at once (`SIGKILL`, as a crash) or cleanly; resolves once it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  /** Whether the server answers its health check with JetStream ready. */
  async healthy(): Promise<boolean> {
    try {
      const response = await fetch(`http://${HOST}:${this.monitorPort}/healthz?js-enabled-only=true`);
      return response.ok;
    } catch {
      return false;
    }
  }
}

/** A JetStream cluster of nats-server processes on free loopback ports, for tests. */
export class NatsCluster {
  private constructor(
    readonly nodes: NatsNode[],
    private readonly dir: { path: string; remove: () => void },
  ) {}

  /** The client URLs of every node, as a client's `servers` option takes them. */
  get servers(): string[] {
    return this.nodes.map((node) => node.url);
  }

  /** Starts `size` nodes (one: a standalone server) and resolves once JetStream has a meta leader and answers. */
  static async start(size = 3): Promise<NatsCluster> {
    const dir = makeTempDir('nde-nats-');
    const ports = await Promise.all(Array.from({ length: size * 3 }, () => freePort()));
    const nodes = Array.from({ length: size }, (_, i) => {
      const [client, route, monitor] = ports.slice(i * 3, i * 3 + 3) as [number, number, number];
      const name = `n${i + 1}`;
      const routes = Array.from({ length: size }, (_, j) => `nats-route://${HOST}:${ports[j * 3 + 1]}`).filter((_, j) => j !== i);
      const store = join(dir.path, name);
      mkdirSync(store);
      const configFile = join(dir.path, `${name}.conf`);
      writeFileSync(
        configFile,
        [
          `server_name: ${name}`,
          `listen: ${HOST}:${client}`,
          `http: ${HOST}:${monitor}`,
          `jetstream { store_dir: ${JSON.stringify(store)} }`,
          // One node runs standalone: a cluster of one would wait for peers to elect a leader.
          ...(size > 1 ? [`cluster { name: nde, listen: ${HOST}:${route}, routes: [${routes.map((url) => JSON.stringify(url)).join(', ')}] }`] : []),
        ].join('\n'),
      );
      return new NatsNode(name, client, monitor, configFile);
    });
    const cluster = new NatsCluster(nodes, dir);
    for (const node of nodes) node.start();
    try {
      await cluster.ready();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Resolves once every running node is healthy and JetStream answers account requests (a meta leader exists). */
  async ready(timeoutMs = READY_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no node answered';
    while (Date.now() < deadline) {
      const running = this.nodes.filter((node) => node.running);
      if ((await Promise.all(running.map((node) => node.healthy()))).every(Boolean)) {
        let nc: NatsConnection | undefined;
        try {
          nc = await connect({ servers: running.map((node) => node.url), timeout: 2_000 });
          await (await jetstreamManager(nc, { timeout: 2_000 })).getAccountInfo();
          return;
        } catch (error) {
          last = (error as Error).message;
        } finally {
          await nc?.close();
        }
      }
      await delay(100);
    }
    throw new Error(
      `the NATS cluster was not ready within ${timeoutMs} ms (${last}):\n${this.nodes.map((node) => `${node.name}: ${node.log().slice(-2_000)}`).join('\n')}`,
    );
  }

  /** Connects a client to every node of the cluster. */
  connect(): Promise<NatsConnection> {
    return connect({ servers: this.servers, timeout: 5_000 });
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop('SIGKILL')));
    this.dir.remove();
  }
}
