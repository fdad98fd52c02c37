import { Registry } from 'prom-client';
import {
  Composite,
  Entity,
  EntityRepository,
  Field,
  getRepositoryToken,
  Index,
  Reference,
  type EntitiesModuleOptions,
  type FindQuery,
} from '../../../lib/index.js';
import { parsePrometheusText, sampleValue } from './prometheus-text.util.js';
import type { TestApp } from '../../support/test-app.util.js';
import { CapturingLogger, createObservedApp } from './observability-app.util.js';

@Entity('parcels')
@Composite(['county', 'status'])
class Parcel {
  @Field() county!: string;
  @Field() status!: string;
  @Field() @Index() weight!: number;
  @Field({ required: false }) note?: string;
}

@Entity('sq-owners')
class Owner {
  @Field() name!: string;
}

@Entity('sq-lots')
class Lot {
  @Field() @Reference(() => Owner) ownerId!: string;
  @Field() size!: number;
}

const SLOW = /^slow query: find on parcels took \d+(\.\d)? ms \(slowQueryMs 0\); (.*)$/;

/** Queries the planner answers three different ways. */
const QUERIES: { query: FindQuery; plan: string; rest: string }[] = [
  {
    query: { where: { county: 'Travis', status: 'open' } },
    plan: 'index county_status by county= status= in order',
    rest: 'filters: county, status; sort: id',
  },
  { query: { where: { weight: { gte: 5 } }, sort: 'weight' }, plan: 'index weight by weight[gte] in order', rest: 'filters: weight; sort: weight' },
  { query: { where: { note: 'fragile' } }, plan: 'scan records in order', rest: 'filters: note; sort: id' },
];

describe('slow-query warnings', () => {
  let t: TestApp | undefined;

  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function start(module: Partial<EntitiesModuleOptions>): Promise<{ logger: CapturingLogger; parcels: EntityRepository<Parcel> }> {
    const logger = new CapturingLogger();
    t = await createObservedApp({ entities: [Parcel], platform: 'express', logger, module });
    const parcels = t.app.get<EntityRepository<Parcel>>(getRepositoryToken(Parcel));
    await parcels.createMany([
      { county: 'Travis', status: 'open', weight: 7 },
      { county: 'Hays', status: 'open', weight: 3, note: 'fragile' },
    ]);
    return { logger, parcels };
  }

  it('warn about every query at or over slowQueryMs, naming the plan the planner chose, and count them', async () => {
    const registry = new Registry();
    const { logger, parcels } = await start({ slowQueryMs: 0, metrics: { enabled: true, registry, path: false } });
    for (const { query } of QUERIES) await parcels.find(query);
    const lines = logger.of('EntitiesQuery').map((line) => SLOW.exec(line.message)?.[2] ?? line.message);
    expect(lines).toEqual(QUERIES.map(({ plan, rest }) => `${plan}; ${rest}`));
    for (const { query, plan } of QUERIES) expect(parcels.explain(query)).toBe(plan);
    expect(sampleValue(parsePrometheusText(await registry.metrics()), 'entities_slow_queries_total', { entity: 'parcels' })).toBe(QUERIES.length);
  });

  it('name the plan that ran when a condition through a reference narrowed it, not the one without', async () => {
    const logger = new CapturingLogger();
    t = await createObservedApp({ entities: [Owner, Lot], platform: 'express', logger, module: { slowQueryMs: 0 } });
    const owners = t.app.get<EntityRepository<Owner>>(getRepositoryToken(Owner));
    const lots = t.app.get<EntityRepository<Lot>>(getRepositoryToken(Lot));
    const [ada] = await owners.createMany([{ name: 'Ada' }, { name: 'Grace' }]);
    await lots.createMany([
      { ownerId: ada!.id, size: 1 },
      { ownerId: ada!.id, size: 2 },
    ]);
    const query: FindQuery = { where: { 'owner.name': 'Ada' } };
    expect((await lots.find(query)).items).toHaveLength(2);
    const [line] = logger.of('EntitiesQuery').filter((entry) => entry.message.includes('find on sq-lots'));
    expect(lots.explain(query)).toBe('scan records in order');
    expect(line!.message).toMatch(/; index ownerId by ownerId\[in 1\], merging its runs in id order; filters: owner\.name; sort: id$/);
  });

  it('stay quiet for queries under the threshold', async () => {
    const { logger, parcels } = await start({ slowQueryMs: 60_000 });
    for (const { query } of QUERIES) await parcels.find(query);
    expect(logger.of('EntitiesQuery')).toEqual([]);
  });

  it('are off with slowQueryMs: false', async () => {
    const { logger, parcels } = await start({ slowQueryMs: false });
    for (const { query } of QUERIES) await parcels.find(query);
    expect(logger.of('EntitiesQuery')).toEqual([]);
  });
});
