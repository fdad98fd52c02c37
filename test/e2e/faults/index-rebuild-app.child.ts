/**
 * A small app run as a child process by crash-variants.spec.ts, in two versions of one entity:
 * version 2 adds an index and a composite, which the package builds from the records at its
 * first start. Usage: `node <compiled> <dataPath> <command> [count]`, commands:
 *   seed <n>   (version 1) creates n orders
 *   churn <n>  (version 1) n random creates, updates and deletes
 *   open       (version 2) starts, which builds the new indexes if they are not built yet
 *   check      (version 2) starts, then reports verify(), the new indexes and every record
 * Every acknowledged write and every report is one line `@@ <json>` on stdout.
 */
import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Composite, EntitiesMaintenance, EntitiesModule, Entity, EntityRepository, Field, getRepositoryToken, Index } from 'nestjs-declarative-entities';

const REGIONS = 16;

@Entity('orders')
class OrderV1 {
  @Field()
  @Index({ unique: true })
  code!: string;

  @Field()
  region!: string;

  @Field()
  amount!: number;
}

@Entity('orders')
@Composite(['region', 'amount'])
class OrderV2 {
  @Field()
  @Index({ unique: true })
  code!: string;

  @Field()
  @Index()
  region!: string;

  @Field()
  amount!: number;
}

type Order = OrderV1 | OrderV2;

const [dataPath, command, count] = process.argv.slice(2) as [string, string, string | undefined];
const report = (value: unknown) => process.stdout.write(`@@ ${JSON.stringify(value)}\n`);
const random = (n: number) => Math.floor(Math.random() * n);

@Module({})
class OrdersModule {
  static register(entity: typeof OrderV1 | typeof OrderV2): DynamicModule {
    return { module: OrdersModule, imports: [EntitiesModule.forRoot({ path: dataPath }), EntitiesModule.forFeature([entity])] };
  }
}

const entity = command === 'open' || command === 'check' ? OrderV2 : OrderV1;
const app = await NestFactory.createApplicationContext(OrdersModule.register(entity), { logger: ['log', 'warn', 'error'] });
app.enableShutdownHooks();
const repository = app.get<EntityRepository<Order>>(getRepositoryToken(entity));
const maintenance = app.get(EntitiesMaintenance);
report({ ready: true });

if (command === 'seed') {
  const total = Number(count);
  for (let start = 0; start < total; start += 1000) {
    const orders = Array.from({ length: Math.min(1000, total - start) }, (_, i) => ({
      code: `O-${start + i}`,
      region: `r${random(REGIONS)}`,
      amount: random(1000),
    }));
    const created = await repository.createMany(orders);
    report({ acknowledged: created.map((order) => [order.id, order.version]) });
  }
} else if (command === 'churn') {
  const ids = (await storedOrders()).map((order) => order.id);
  for (let i = 0; i < Number(count); i++) {
    const roll = Math.random();
    if (roll < 0.2 || ids.length === 0) {
      const created = await repository.create({ code: `N-${Date.now()}-${i}`, region: `r${random(REGIONS)}`, amount: random(1000) });
      ids.push(created.id);
      report({ acknowledged: [[created.id, created.version]] });
    } else if (roll < 0.85) {
      const id = ids[random(ids.length)]!;
      const updated = await repository.update(id, { region: `r${random(REGIONS)}`, amount: random(1000) });
      report({ acknowledged: [[id, updated.version]] });
    } else {
      const id = ids.splice(random(ids.length), 1)[0]!;
      await repository.delete(id);
      report({ deleted: id });
    }
  }
} else if (command === 'check') {
  const orders = await storedOrders();
  const records = new Map(orders.map((order) => [order.id, order.version]));
  const byRegion = new Map<string, number>();
  for (const { region } of orders) byRegion.set(region, (byRegion.get(region) ?? 0) + 1);
  // Every region's orders read through the new index, page by page, against a count from the records.
  const mismatched: string[] = [];
  for (const [region, expected] of byRegion) {
    let found = 0;
    let cursor: string | undefined;
    do {
      const page = await repository.find({ where: { region }, limit: 1000, ...(cursor && { cursor }) });
      found += page.items.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    if (found !== expected) mismatched.push(`${region}: ${found} found through the index, ${expected} stored`);
  }
  report({
    verify: maintenance.verify().problems,
    records: Object.fromEntries(records),
    indexEntries: Object.fromEntries(
      (await maintenance.stat()).entities.find((stat) => stat.name === 'orders')!.indexes.map((index) => [index.name, index.entries]),
    ),
    regionPlan: repository.explain({ where: { region: 'r1' } }),
    mismatched,
  });
}
await app.close();

/** Every stored order, read in id order (the records themselves, no index), a page at a time. */
async function storedOrders(): Promise<Array<{ id: string; version: number; region: string }>> {
  const orders: Array<{ id: string; version: number; region: string }> = [];
  let cursor: string | undefined;
  do {
    const page = await repository.find({ limit: 1000, ...(cursor && { cursor }) });
    orders.push(...page.items.map((order) => ({ id: order.id, version: order.version, region: order.region })));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return orders;
}
