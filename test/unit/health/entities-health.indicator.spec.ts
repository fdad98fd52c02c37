import { spawn } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { Controller, Get, Query } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { EntitiesHealthIndicator, Entity, Field } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { StorageFailureException } from '../../../lib/storage/storage-failure.exception.js';
import { http } from '../../e2e/support/e2e.util.js';
import { createObservedApp } from '../../e2e/observability/observability-app.util.js';
import { PLATFORMS, type Platform, type TestApp } from '../../support/test-app.util.js';

@Entity('boilers')
class Boiler {
  @Field() site!: string;
}

/** A health controller as a user writes one; `?min=` sets the headroom threshold of one check. */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly entities: EntitiesHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(@Query('min') min?: string) {
    return this.health.check([() => this.entities.isHealthy('store', min === undefined ? {} : { minHeadroomBytes: Number(min) })]);
  }
}

const MIB = 1024 * 1024;

function freeBytes(path: string): number {
  const stats = statfsSync(path);
  return stats.bavail * stats.bsize;
}

describe.each(PLATFORMS)('EntitiesHealthIndicator in a terminus health check on %s', (platform: Platform) => {
  const start = (health?: { minHeadroomBytes?: number; writeProbe?: boolean; writeProbeTimeout?: number }) =>
    createObservedApp({
      entities: [Boiler],
      platform,
      module: { health },
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
    });

  let t: TestApp;

  afterEach(async () => {
    await t?.close();
  });

  it('reports up, with the store open, taking writes and measured, while it has room to grow', async () => {
    t = await start();
    const response = await http(t).get('/health');
    expect(response.status).toBe(200);
    expect(response.body).toEqual(
      expect.objectContaining({
        status: 'ok',
        info: {
          store: {
            status: 'up',
            open: true,
            writable: true,
            mapSizeBytes: expect.any(Number),
            mapUsedBytes: expect.any(Number),
            headroomBytes: expect.any(Number),
            minHeadroomBytes: 64 * MIB,
          },
        },
      }),
    );
    const store = response.body.info.store;
    expect(store.mapUsedBytes).toBeGreaterThan(0);
    expect(store.mapUsedBytes).toBeLessThanOrEqual(store.mapSizeBytes);
  });

  it('leaves the event log and the records alone: its heartbeat is no change of data', async () => {
    t = await start();
    const created = await http(t).post('/boilers').send({ site: 'north' });
    expect(created.status).toBe(201);
    const storage = t.app.get(EntityStorage);
    const events = storage.events(0, 100);
    for (let i = 0; i < 3; i++) expect((await http(t).get('/health')).status).toBe(200);
    expect(storage.events(0, 100)).toEqual(events);
    expect((await http(t).get('/boilers')).body.items).toEqual([created.body]);
    expect(storage.verify()).toEqual(expect.objectContaining({ ok: true, problems: [] }));
  });

  it('reports down with 503 once the store is closed', async () => {
    t = await start();
    await t.app.get(EntityStorage).close();
    const response = await http(t).get('/health');
    expect(response.status).toBe(503);
    expect(response.body.error).toEqual({ store: { status: 'down', open: false, minHeadroomBytes: 64 * MIB, message: 'the store is closed' } });
  });

  it('reports down when the room left to grow is below the threshold given per check, and up when above it', async () => {
    t = await start();
    const free = freeBytes(t.path);
    const below = await http(t).get(`/health?min=${Math.floor(free / 2)}`);
    expect(below.status).toBe(200);
    const above = await http(t).get(`/health?min=${free * 2}`);
    expect(above.status).toBe(503);
    expect(above.body.error.store).toEqual(
      expect.objectContaining({
        status: 'down',
        open: true,
        writable: true,
        minHeadroomBytes: free * 2,
        message: expect.stringMatching(/bytes left to grow into, below the minimum of \d+$/),
      }),
    );
  });

  it('takes its threshold from forRoot({ health }) when the check gives none', async () => {
    t = await start({ minHeadroomBytes: Number.MAX_SAFE_INTEGER });
    const response = await http(t).get('/health');
    expect(response.status).toBe(503);
    expect(response.body.error.store).toEqual(expect.objectContaining({ status: 'down', minHeadroomBytes: Number.MAX_SAFE_INTEGER }));
  });

  it('reports down once a failed sync stopped writes, also when it does not probe with a write', async () => {
    t = await start({ writeProbe: false });
    expect((await http(t).get('/health')).body.info.store).not.toHaveProperty('writable');
    t.app.get(EntityStorage).environment.stop(new StorageFailureException('simulated failed sync', false));
    expect((await http(t).post('/boilers').send({ site: 'south' })).status).toBe(503);
    const response = await http(t).get('/health');
    expect(response.status).toBe(503);
    expect(response.body.error.store).toEqual(
      expect.objectContaining({ status: 'down', open: true, writable: false, message: 'the store does not take writes: simulated failed sync' }),
    );
  });

  it('reports down, within writeProbeTimeout, while another process holds the write lock', async () => {
    t = await start({ writeProbeTimeout: 200 });
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { open } from 'lmdb';
         const db = open({ path: process.argv[1] });
         db.transactionSync(() => {
           db.putSync('lock-holder', 1);
           process.stdout.write('locked\\n');
           Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
         });
         await db.close();`,
        t.path,
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
        holder.once('exit', () => reject(new Error('the lock holder ended before it held the lock')));
      });
      const started = Date.now();
      const response = await http(t).get('/health');
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(response.status).toBe(503);
      expect(response.body.error.store).toEqual(
        expect.objectContaining({ status: 'down', writable: false, message: 'the store does not take writes: the heartbeat did not commit within 200 ms' }),
      );
      await exited;
      expect((await http(t).get('/health')).status).toBe(200);
    } finally {
      holder.kill();
      await exited;
    }
  }, 20_000);
});
