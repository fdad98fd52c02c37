import { Composite, Entity, Field, Index } from '../../lib/index.js';
import { makeTempDir } from '../support/temp-dir.util.js';
import { createTestApp, PLATFORMS, type TestApp } from '../support/test-app.util.js';
import { expectNestError, http, walkPages } from './support/e2e.util.js';

@Entity('restart-permits')
@Composite(['county', 'status'])
class RestartPermit {
  @Field()
  @Index({ unique: true })
  number!: string;

  @Field()
  county!: string;

  @Field()
  status!: string;

  @Field()
  @Index()
  cost!: number;

  @Field({ required: false })
  note?: string;
}

/** The same stored collection, first without an index on `colour`... */
@Entity('restart-widgets')
class WidgetBefore {
  @Field()
  label!: string;

  @Field()
  colour!: string;

  @Field()
  size!: number;
}

/** ...then with one on `colour` and a unique one on `label`, added while the store already holds records. */
@Entity('restart-widgets')
class WidgetAfter {
  @Field()
  @Index({ unique: true })
  label!: string;

  @Field()
  @Index()
  colour!: string;

  @Field()
  @Index()
  size!: number;
}

describe.each(PLATFORMS)('reopening a data directory on %s', (platform) => {
  let dir: { path: string; remove: () => void };
  let apps: TestApp[];

  beforeEach(() => {
    dir = makeTempDir('nde-e2e-restart-');
    apps = [];
  });

  afterEach(async () => {
    for (const app of apps.reverse()) await app.close().catch(() => undefined);
    dir.remove();
  });

  async function open(entities: Parameters<typeof createTestApp>[0]['entities']): Promise<TestApp> {
    const app = await createTestApp({ entities, platform, path: dir.path });
    apps.push(app);
    return app;
  }

  async function close(app: TestApp): Promise<void> {
    await app.close();
    apps.splice(apps.indexOf(app), 1);
  }

  it('keeps every record with the same id, version and timestamps, and serves indexed queries after a restart', async () => {
    const first = await open([RestartPermit]);
    const batch = await http(first)
      .post('/restart-permits/batch')
      .send(
        Array.from({ length: 12 }, (_, i) => ({
          number: `BP-${String(i).padStart(4, '0')}`,
          county: i % 3 === 0 ? 'Travis' : 'Hays',
          status: i % 2 === 0 ? 'open' : 'closed',
          cost: 1000 + i * 100,
        })),
      );
    expect(batch.status).toBe(201);
    const single = await http(first).post('/restart-permits').send({ number: 'BP-9999', county: 'Bell', status: 'open', cost: 50, note: 'single' });
    expect(single.status).toBe(201);
    // Some history on the records: an update, a replace and a delete.
    const patched = await http(first).patch(`/restart-permits/${batch.body[1].id}`).send({ status: 'open', note: 'patched' });
    expect(patched.status).toBe(200);
    const replaced = await http(first).put(`/restart-permits/${batch.body[2].id}`).send({ number: 'BP-0002', county: 'Travis', status: 'closed', cost: 1 });
    expect(replaced.status).toBe(200);
    await http(first).delete(`/restart-permits/${batch.body[3].id}`).expect(204);
    const before = await http(first).get('/restart-permits?limit=1000');
    expect(before.status).toBe(200);
    expect(before.body.items).toHaveLength(12);
    await close(first);

    const second = await open([RestartPermit]);
    const after = await http(second).get('/restart-permits?limit=1000');
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    for (const record of before.body.items) {
      const read = await http(second).get(`/restart-permits/${record.id}`);
      expect(read.status).toBe(200);
      expect(read.headers['etag']).toBe(`"${record.version}"`);
      expect(read.body).toEqual(record);
    }
    expect((await http(second).get(`/restart-permits/${patched.body.id}`)).body).toEqual(patched.body);
    expect((await http(second).get(`/restart-permits/${replaced.body.id}`)).body).toEqual(replaced.body);
    expectNestError(await http(second).get(`/restart-permits/${batch.body[3].id}`), 404);

    // Queries answered from the unique index, the plain index and the composite.
    const byNumber = await http(second).get('/restart-permits?number=BP-0005');
    expect(byNumber.body.items.map((r: any) => r.id)).toEqual([batch.body[5].id]);
    const byPrefix = await http(second).get('/restart-permits?number[prefix]=BP-000');
    expect(byPrefix.body.items).toHaveLength(9);
    const byCost = await http(second).get('/restart-permits?cost[gte]=1500&sort=-cost');
    expect(byCost.body.items.map((r: any) => r.cost)).toEqual([2100, 2000, 1900, 1800, 1700, 1600, 1500]);
    const byComposite = await http(second).get('/restart-permits?county=Travis&status=open');
    const expected = before.body.items.filter((r: any) => r.county === 'Travis' && r.status === 'open');
    expect(expected.length).toBeGreaterThan(0);
    expect(byComposite.body.items).toEqual(expected);
    const walked = await walkPages(second, '/restart-permits', { sort: 'cost', limit: '5' });
    expect(walked.items.map((r: any) => r.cost)).toEqual(before.body.items.map((r: any) => r.cost).sort((a: number, b: number) => a - b));

    // The unique index still holds, and the deleted record's value is still free.
    expectNestError(await http(second).post('/restart-permits').send({ number: 'BP-0005', county: 'X', status: 'open', cost: 1 }), 409);
    expectNestError(await http(second).patch(`/restart-permits/${batch.body[6].id}`).send({ number: 'BP-9999' }), 409);
    const reused = await http(second).post('/restart-permits').send({ number: 'BP-0003', county: 'X', status: 'open', cost: 1 });
    expect(reused.status).toBe(201);

    // Writes go on from where they were: versions continue and new ids sort after the old ones.
    const bumped = await http(second).patch(`/restart-permits/${patched.body.id}`).send({ note: 'after restart' });
    expect(bumped.status).toBe(200);
    expect(bumped.body.version).toBe(patched.body.version + 1);
    const ids = (await http(second).get('/restart-permits?limit=1000')).body.items.map((r: any) => r.id as string);
    expect(ids[ids.length - 1]).toBe(reused.body.id);
  });

  it('survives several restarts in a row', async () => {
    let app = await open([RestartPermit]);
    const ids: string[] = [];
    for (let round = 0; round < 3; round++) {
      const created = await http(app)
        .post('/restart-permits')
        .send({ number: `R-${round}`, county: 'C', status: 'open', cost: round });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
      await close(app);
      app = await open([RestartPermit]);
      const list = await http(app).get('/restart-permits');
      expect(list.body.items.map((r: any) => r.id)).toEqual(ids);
    }
    expectNestError(await http(app).post('/restart-permits').send({ number: 'R-0', county: 'C', status: 'open', cost: 9 }), 409);
  });

  it('builds an index added to an entity that already has records, so filters on it find them', async () => {
    const first = await open([WidgetBefore]);
    const created = await http(first)
      .post('/restart-widgets/batch')
      .send([
        { label: 'w1', colour: 'red', size: 1 },
        { label: 'w2', colour: 'blue', size: 2 },
        { label: 'w3', colour: 'red', size: 3 },
        { label: 'w4', colour: 'green', size: 4 },
      ]);
    expect(created.status).toBe(201);
    await close(first);

    const second = await open([WidgetAfter]);
    const red = await http(second).get('/restart-widgets?colour=red');
    expect(red.status).toBe(200);
    expect(red.body.items).toEqual([created.body[0], created.body[2]]);
    const inList = await http(second).get('/restart-widgets?colour[in]=blue,green');
    expect(inList.body.items).toEqual([created.body[1], created.body[3]]);
    const big = await http(second).get('/restart-widgets?size[gte]=2&sort=-size');
    expect(big.body.items).toEqual([created.body[3], created.body[2], created.body[1]]);
    // The new unique index knows the existing values.
    expectNestError(await http(second).post('/restart-widgets').send({ label: 'w2', colour: 'red', size: 9 }), 409);
    // New writes keep the new index in step.
    const added = await http(second).post('/restart-widgets').send({ label: 'w5', colour: 'red', size: 5 });
    expect(added.status).toBe(201);
    await http(second).patch(`/restart-widgets/${created.body[0].id}`).send({ colour: 'blue' }).expect(200);
    const redNow = await http(second).get('/restart-widgets?colour=red');
    expect(redNow.body.items.map((r: any) => r.label)).toEqual(['w3', 'w5']);
    await close(second);

    // Opening again with the index already built changes nothing.
    const third = await open([WidgetAfter]);
    expect((await http(third).get('/restart-widgets?colour=red')).body.items.map((r: any) => r.label)).toEqual(['w3', 'w5']);
    expect((await http(third).get('/restart-widgets?colour=blue')).body.items.map((r: any) => r.label)).toEqual(['w1', 'w2']);
  });

  it('keeps the index in step when an app without it wrote in between', async () => {
    const withIndex = await open([WidgetAfter]);
    const created = await http(withIndex).post('/restart-widgets').send({ label: 'a', colour: 'red', size: 1 });
    expect(created.status).toBe(201);
    await close(withIndex);

    // An older build of the app, without the indexes, changes the record and adds one.
    const without = await open([WidgetBefore]);
    await http(without).patch(`/restart-widgets/${created.body.id}`).send({ colour: 'blue' }).expect(200);
    await http(without).post('/restart-widgets').send({ label: 'b', colour: 'red', size: 2 }).expect(201);
    await close(without);

    const again = await open([WidgetAfter]);
    expect((await http(again).get('/restart-widgets?colour=red')).body.items.map((r: any) => r.label)).toEqual(['b']);
    expect((await http(again).get('/restart-widgets?colour=blue')).body.items.map((r: any) => r.label)).toEqual(['a']);
    expectNestError(await http(again).post('/restart-widgets').send({ label: 'b', colour: 'x', size: 3 }), 409);
  });
});
