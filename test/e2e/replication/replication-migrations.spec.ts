import {
  EntitiesMaintenance,
  Entity,
  Field,
  getRepositoryToken,
  Index,
  StoreSchemaNewerException,
  type EntityEvent,
  type EntityRepository,
} from '../../../lib/index.js';
import { NatsCluster, natsServerMissing } from '../../support/nats-cluster.util.js';
import { describeWhen } from '../../support/requirement.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('repmig-lots')
class LotV1 {
  @Field() @Index({ unique: true }) code!: string;
  @Field() size!: number;
}

@Entity({
  name: 'repmig-lots',
  migrations: [{ version: 2, rename: { size: 'area' }, fill: { zone: 'R1' }, update: (lot) => ({ code: `L-${String(lot.code)}` }) }],
})
class LotV2 {
  @Field() @Index({ unique: true }) code!: string;
  @Field() area!: number;
  @Field() zone!: string;
}

/** More than two migration batches (1,000 records each), so instances starting together may meet mid-way. */
const LOTS = 2_500;

function allEvents(app: TestApp): EntityEvent[] {
  const maintenance = app.app.get(EntitiesMaintenance);
  const events: EntityEvent[] = [];
  for (let batch = maintenance.events(0, 1000); batch.length > 0; batch = maintenance.events(batch.at(-1)!.seq, 1000)) events.push(...batch);
  return events;
}

describeWhen(natsServerMissing(), 'the replication suite')('schema migrations over NATS JetStream (3 nodes, 3 instances)', () => {
  let cluster: NatsCluster;
  let dirs: Array<ReturnType<typeof makeTempDir>>;
  let instances: TestApp[] = [];

  beforeAll(async () => {
    cluster = await NatsCluster.start(3);
    dirs = [0, 1, 2].map(() => makeTempDir());
  }, 60_000);

  afterAll(async () => {
    for (const instance of instances) await instance.close();
    await cluster?.stop();
    for (const dir of dirs ?? []) dir.remove();
  });

  function startInstance(node: number, entity: typeof LotV1 | typeof LotV2, migrate?: 'manual'): Promise<TestApp> {
    const servers = [cluster.servers[node]!, ...cluster.servers.filter((_, i) => i !== node)];
    return createTestApp({
      entities: [entity],
      platform: node % 2 ? 'fastify' : 'express',
      path: dirs[node]!.path,
      module: { replication: { servers, stream: 'REPMIG', replicas: 3, timeout: 10_000 }, ...(migrate && { migrate }) },
    });
  }

  it('migrates every record once when three instances start the new code together, and all end equal', async () => {
    instances = [await startInstance(0, LotV1), await startInstance(1, LotV1), await startInstance(2, LotV1)];
    const lots = instances[0]!.app.get<EntityRepository<LotV1>>(getRepositoryToken(LotV1));
    for (let from = 0; from < LOTS; from += 1000) {
      await lots.createMany(Array.from({ length: Math.min(1000, LOTS - from) }, (_, i) => ({ code: `c${from + i}`, size: from + i })));
    }
    const written = lots.appliedSeq!;
    for (const instance of instances) await instance.app.get<EntityRepository<LotV1>>(getRepositoryToken(LotV1)).waitForSeq(written);
    for (const instance of instances) await instance.close();
    instances = [];

    instances = await Promise.all([0, 1, 2].map((node) => startInstance(node, LotV2)));

    // Each instance applied the same messages: the same log, and so the same records.
    const repositories = instances.map((instance) => instance.app.get<EntityRepository<LotV2>>(getRepositoryToken(LotV2)));
    const lastSeq = Math.max(...repositories.map((repository) => repository.appliedSeq ?? 0));
    for (const repository of repositories) await repository.waitForSeq(lastSeq);
    const settled = instances.map(allEvents);
    const migrated = settled[0]!.filter((event) => event.migration === 2);
    expect(migrated).toHaveLength(LOTS);
    expect(new Set(migrated.map((event) => event.id)).size).toBe(LOTS);
    for (const log of settled.slice(1)) expect(log).toEqual(settled[0]);
    for (const instance of instances) {
      const repository = instance.app.get<EntityRepository<LotV2>>(getRepositoryToken(LotV2));
      expect(await repository.findById((await repository.find({ where: { code: 'L-c7' } })).items[0]!.id)).toMatchObject({
        code: 'L-c7',
        area: 7,
        zone: 'R1',
        version: 2,
      });
      expect((await instance.app.get(EntitiesMaintenance).verify()).problems).toEqual([]);
    }

    await instances[2]!.close();
    instances.pop();
    await expect(startInstance(2, LotV1)).rejects.toThrow(StoreSchemaNewerException);
    // Nothing could run the steps of a replicated store but its instances.
    await expect(startInstance(2, LotV2, 'manual')).rejects.toThrow(/migrate: 'manual' cannot be used with replication/);
  }, 120_000);
});
