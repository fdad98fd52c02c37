import type { EntitiesModuleOptions } from '../../lib/index.js';
import { EntitiesMaintenance } from '../../lib/index.js';
import { LmdbEnvironment } from '../../lib/storage/lmdb-environment.store.js';
import { NatsCluster } from './nats-cluster.util.js';
import { makeTempDir } from './temp-dir.util.js';
import { createTestApp, type TestApp } from './test-app.util.js';

/** Every entry of `databases`, as bytes, read from a backup so the app's handles stay untouched: two stores compare equal byte for byte. */
export async function storeBytes(app: TestApp, databases: readonly string[]): Promise<Record<string, string[]>> {
  const copy = makeTempDir();
  try {
    await app.app.get(EntitiesMaintenance).backup(copy.path);
    const environment = new LmdbEnvironment(copy.path, {}, true);
    environment.open(64);
    const state: Record<string, string[]> = {};
    for (const name of databases) {
      const db = environment.database<unknown, never>(name, { encoding: 'binary' });
      state[name] = [...db.getRange({})].map(({ key, value }) => `${JSON.stringify(key)}=${Buffer.from(value as Uint8Array).toString('hex')}`);
    }
    await environment.close();
    return state;
  } finally {
    copy.remove();
  }
}

/**
 * Replicated instances on a one-node NATS cluster of their own, each on a data directory that
 * outlives its restarts, as a release rolls out; `close` stops what is left and removes it all.
 */
export class ReplicatedFleet {
  private readonly running: TestApp[] = [];
  private readonly dirs: Array<ReturnType<typeof makeTempDir>> = [];

  private constructor(private readonly cluster: NatsCluster) {}

  static async start(): Promise<ReplicatedFleet> {
    return new ReplicatedFleet(await NatsCluster.start(1));
  }

  newDir(): ReturnType<typeof makeTempDir> {
    const dir = makeTempDir();
    this.dirs.push(dir);
    return dir;
  }

  /** An instance with `entities` on `dir`, following `stream`; `module` adds options (a cache). */
  async start(entities: Function[], dir: { path: string }, stream: string, module: Partial<EntitiesModuleOptions> = {}): Promise<TestApp> {
    const app = await createTestApp({
      entities: entities as never,
      path: dir.path,
      module: { ...module, replication: { servers: this.cluster.servers, stream, replicas: 1, timeout: 10_000 } },
    });
    this.running.push(app);
    return app;
  }

  async stop(app: TestApp): Promise<void> {
    await app.close();
    this.running.splice(this.running.indexOf(app), 1);
  }

  async close(): Promise<void> {
    for (const app of this.running.splice(0)) await app.close().catch(() => undefined);
    await this.cluster.stop();
    for (const dir of this.dirs) dir.remove();
  }
}
