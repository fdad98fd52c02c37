import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Composite, Entity, Field, Index } from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../support/test-app.util.js';
import { expectNestError, http, walkPages } from './support/e2e.util.js';

/** Indexed fields (`name`, `amount`, the composite) and unindexed ones (`score`, `active`, `dueAt`). */
@Entity('list-things')
@Composite(['category', 'status'])
class Thing {
  @Field()
  @Index()
  name!: string;

  @Field()
  category!: string;

  @Field()
  status!: string;

  @Field()
  @Index()
  amount!: number;

  @Field()
  active!: boolean;

  @Field({ required: false })
  dueAt?: Date;

  @Field({ required: false })
  score?: number;
}

type ThingData = Omit<Thing, 'dueAt'> & { dueAt?: string };

/** Created in this order; `amount` and `score` have ties so sorting must break them by id. */
const THINGS: ThingData[] = [
  { name: 'alpha', category: 'a', status: 'open', amount: 10, active: true, dueAt: '2024-01-01T00:00:00.000Z', score: 5 },
  { name: 'beta', category: 'a', status: 'closed', amount: 20, active: false, dueAt: '2024-01-02T00:00:00.000Z', score: 3 },
  { name: 'gamma', category: 'b', status: 'open', amount: 30, active: true, dueAt: '2024-01-03T12:00:00.000Z', score: 5 },
  { name: 'delta', category: 'b', status: 'closed', amount: 20, active: false, dueAt: '2024-01-04T00:00:00.000Z', score: 1 },
  { name: 'epsilon', category: 'a', status: 'open', amount: 50, active: true, score: 9 },
  { name: 'zeta', category: 'c', status: 'open', amount: 60, active: false, dueAt: '2024-01-06T00:00:00.000Z', score: 3 },
  { name: 'eta', category: 'a', status: 'open', amount: 70, active: true, dueAt: '2024-01-07T00:00:00.000Z', score: 7 },
  { name: 'theta', category: 'b', status: 'open', amount: 80, active: false, dueAt: '2024-01-08T00:00:00.000Z' },
];

const names = (items: any[]): string[] => items.map((item) => item.name as string);
const byName = (list: string[]) => [...list].sort();

describe.each(PLATFORMS)('GET /P on %s', (platform) => {
  describe('filters and sorts', () => {
    let t: TestApp;
    let created: any[];

    beforeAll(async () => {
      t = await createTestApp({ entities: [Thing], platform });
      created = [];
      // One by one, so the creation order is known.
      for (const thing of THINGS) {
        const response = await http(t).post('/list-things').send(thing);
        expect(response.status).toBe(201);
        created.push(response.body);
      }
    });

    afterAll(async () => {
      await t?.close();
    });

    async function list(query: string): Promise<{ items: any[]; nextCursor: string | null }> {
      const response = await http(t).get(`/list-things${query}`);
      if (response.status !== 200) throw new Error(`GET /list-things${query} answered ${response.status}: ${JSON.stringify(response.body)}`);
      return response.body;
    }

    async function expectMatches(query: string, expected: (thing: ThingData) => boolean): Promise<void> {
      const page = await list(query);
      expect(page.nextCursor).toBeNull();
      expect(byName(names(page.items))).toEqual(byName(THINGS.filter(expected).map((thing) => thing.name)));
    }

    it('answers { items, nextCursor } with every record in creation order by default', async () => {
      const page = await list('');
      expect(Object.keys(page).sort()).toEqual(['items', 'nextCursor']);
      expect(page.nextCursor).toBeNull();
      expect(page.items).toEqual(created);
      const ids = page.items.map((item) => item.id as string);
      expect(ids).toEqual([...ids].sort());
    });

    it('sorts by id ascending when asked explicitly, and descending with sort=-id', async () => {
      expect(names((await list('?sort=id')).items)).toEqual(THINGS.map((thing) => thing.name));
      expect(names((await list('?sort=-id')).items)).toEqual(THINGS.map((thing) => thing.name).reverse());
    });

    it('filters by string equality', async () => {
      await expectMatches('?name=gamma', (thing) => thing.name === 'gamma');
      await expectMatches('?status=closed', (thing) => thing.status === 'closed');
      await expectMatches('?name=nobody', () => false);
    });

    it('filters by equality with [eq]', async () => {
      await expectMatches('?category[eq]=c', (thing) => thing.category === 'c');
    });

    it('converts numbers from the query string', async () => {
      await expectMatches('?amount=20', (thing) => thing.amount === 20);
      await expectMatches('?score=5', (thing) => thing.score === 5);
      await expectMatches('?amount=20.0', (thing) => thing.amount === 20);
    });

    it('reads numbers with a fraction or an exponent', async () => {
      await expectMatches('?amount=1e1', (thing) => thing.amount === 10);
      await expectMatches('?amount[gt]=-1.5&amount[lt]=2.5e1', (thing) => thing.amount > -1.5 && thing.amount < 25);
      await expectMatches('?score[in]=1E0,5', (thing) => thing.score === 1 || thing.score === 5);
    });

    it.each(['0x14', '0b10100', '0o24', '', '%2020', '20%20', 'Infinity', '-Infinity', 'NaN'])(
      'refuses the number %j with 400 naming the field, on indexed, unindexed and managed fields',
      async (value) => {
        // `score[in]=` is an empty list, not a list of one empty number (see below).
        for (const key of ['amount', 'amount[gte]', 'score', ...(value === '' ? [] : ['score[in]']), 'version']) {
          const response = await http(t).get(`/list-things?${encodeURIComponent(key)}=${value}`);
          expect(expectNestError(response, 400)).toContain(key);
        }
      },
    );

    it('converts booleans from the query string', async () => {
      await expectMatches('?active=true', (thing) => thing.active);
      await expectMatches('?active=false', (thing) => !thing.active);
    });

    it('converts dates from the query string', async () => {
      await expectMatches('?dueAt=2024-01-03T12:00:00.000Z', (thing) => thing.dueAt === '2024-01-03T12:00:00.000Z');
      await expectMatches('?dueAt=2024-01-03T12:00:00Z', (thing) => thing.dueAt === '2024-01-03T12:00:00.000Z');
      await expectMatches('?dueAt=2024-01-03T14:00:00%2B02:00', (thing) => thing.dueAt === '2024-01-03T12:00:00.000Z');
      await expectMatches('?dueAt[gte]=2024-01-04', (thing) => thing.dueAt !== undefined && thing.dueAt >= '2024-01-04');
      await expectMatches('?dueAt[lt]=2024-01-03', (thing) => thing.dueAt !== undefined && thing.dueAt < '2024-01-03');
    });

    it('filters with [ne]', async () => {
      await expectMatches('?category[ne]=a', (thing) => thing.category !== 'a');
      await expectMatches('?amount[ne]=20', (thing) => thing.amount !== 20);
      await expectMatches('?active[ne]=true', (thing) => thing.active !== true);
    });

    it('filters with [gt], [gte], [lt] and [lte] on an indexed number', async () => {
      await expectMatches('?amount[gt]=50', (thing) => thing.amount > 50);
      await expectMatches('?amount[gte]=50', (thing) => thing.amount >= 50);
      await expectMatches('?amount[lt]=30', (thing) => thing.amount < 30);
      await expectMatches('?amount[lte]=30', (thing) => thing.amount <= 30);
      await expectMatches('?amount[gt]=10&amount[lte]=60', (thing) => thing.amount > 10 && thing.amount <= 60);
    });

    it('filters with [gt], [gte], [lt] and [lte] on an unindexed number', async () => {
      await expectMatches('?score[gt]=5', (thing) => thing.score !== undefined && thing.score > 5);
      await expectMatches('?score[gte]=5', (thing) => thing.score !== undefined && thing.score >= 5);
      await expectMatches('?score[lt]=5', (thing) => thing.score !== undefined && thing.score < 5);
      await expectMatches('?score[lte]=5', (thing) => thing.score !== undefined && thing.score <= 5);
    });

    it('filters strings with ranges', async () => {
      await expectMatches('?name[gte]=eta&name[lt]=theta', (thing) => thing.name >= 'eta' && thing.name < 'theta');
    });

    it('filters with [in] on strings and numbers', async () => {
      await expectMatches('?name[in]=alpha,gamma,nobody', (thing) => ['alpha', 'gamma'].includes(thing.name));
      await expectMatches('?amount[in]=10,20', (thing) => [10, 20].includes(thing.amount));
      await expectMatches('?category[in]=c', (thing) => thing.category === 'c');
    });

    it.each(['name[in]=', 'amount[in]=', 'score[in]=', 'active[in]=', 'dueAt[in]=', 'category=a&status[in]=', 'name[in]=&amount[gte]=0', 'id[in]='])(
      'reads %s as an empty list, which matches no record',
      async (query) => {
        await expectMatches(`?${query}`, () => false);
      },
    );

    it('filters strings with [prefix]', async () => {
      await expectMatches('?name[prefix]=e', (thing) => thing.name.startsWith('e'));
      await expectMatches('?name[prefix]=et', (thing) => thing.name.startsWith('et'));
      await expectMatches('?status[prefix]=clo', (thing) => thing.status.startsWith('clo'));
    });

    it('combines filters on several fields, the composite index included', async () => {
      await expectMatches('?category=a&status=open', (thing) => thing.category === 'a' && thing.status === 'open');
      await expectMatches('?category=a&status=open&amount[gte]=50', (thing) => thing.category === 'a' && thing.status === 'open' && thing.amount >= 50);
      await expectMatches('?category=b&active=false', (thing) => thing.category === 'b' && !thing.active);
    });

    it('keeps creation order when filtering without a sort', async () => {
      const page = await list('?category=a&status=open');
      expect(names(page.items)).toEqual(THINGS.filter((t) => t.category === 'a' && t.status === 'open').map((t) => t.name));
    });

    it('sorts ascending by a field, ties in creation order', async () => {
      const expected = THINGS.map((thing, i) => ({ thing, i }))
        .sort((a, b) => a.thing.amount - b.thing.amount || a.i - b.i)
        .map(({ thing }) => thing.name);
      expect(names((await list('?sort=amount')).items)).toEqual(expected);
    });

    it('sorts descending with sort=-field', async () => {
      const amounts = (await list('?sort=-amount')).items.map((item) => item.amount as number);
      expect(amounts).toEqual(THINGS.map((thing) => thing.amount).sort((a, b) => b - a));
      expect(names((await list('?sort=-name')).items)).toEqual(
        THINGS.map((thing) => thing.name)
          .sort()
          .reverse(),
      );
    });

    it('sorts by an unindexed field both ways', async () => {
      const scores = (await list('?sort=score')).items.map((item) => item.score as number | undefined);
      const present = scores.filter((s): s is number => s !== undefined);
      expect(present).toEqual([...present].sort((a, b) => a - b));
      expect(scores).toHaveLength(THINGS.length);
      const descending = (await list('?sort=-score')).items.map((item) => item.score as number | undefined).filter((s): s is number => s !== undefined);
      expect(descending).toEqual([...descending].sort((a, b) => b - a));
    });

    it('sorts by a date field', async () => {
      const dates = (await list('?sort=dueAt&dueAt[gte]=2024-01-01')).items.map((item) => item.dueAt as string);
      expect(dates).toEqual(
        THINGS.map((thing) => thing.dueAt)
          .filter((d): d is string => d !== undefined)
          .sort(),
      );
    });

    it('sorts filtered results', async () => {
      expect(names((await list('?category=a&sort=-amount')).items)).toEqual(['eta', 'epsilon', 'beta', 'alpha']);
      expect(names((await list('?active=true&sort=name')).items)).toEqual(['alpha', 'epsilon', 'eta', 'gamma']);
    });

    it('filters and sorts on the managed fields id, version, createdAt and updatedAt', async () => {
      const all = THINGS.map((thing) => thing.name);
      expect(names((await list(`?id=${created[2].id}`)).items)).toEqual(['gamma']);
      expect(names((await list(`?id[in]=${created[0].id},${created[5].id}`)).items)).toEqual(['alpha', 'zeta']);
      expect(names((await list(`?id[gt]=${created[5].id}`)).items)).toEqual(all.slice(6));
      expect(names((await list(`?id[lte]=${created[1].id}`)).items)).toEqual(all.slice(0, 2));
      expect(names((await list('?version=1')).items)).toEqual(all);
      expect((await list('?version[gt]=1')).items).toEqual([]);
      expect(names((await list(`?createdAt[gte]=${created[0].createdAt}`)).items)).toEqual(all);
      expect((await list(`?updatedAt[gt]=${created[created.length - 1].updatedAt}`)).items).toEqual([]);
      expect(names((await list('?sort=-createdAt')).items)).toEqual([...all].reverse());
      expect(names((await list('?sort=updatedAt')).items)).toEqual(all);
    });

    it('rejects a filter on a field that does not exist with 400 naming it', async () => {
      expect(expectNestError(await http(t).get('/list-things?colour=red'), 400)).toContain('colour');
      expect(expectNestError(await http(t).get('/list-things?colour[gt]=1'), 400)).toContain('colour');
    });

    it('rejects a sort on a field that does not exist with 400', async () => {
      expectNestError(await http(t).get('/list-things?sort=colour'), 400);
      expectNestError(await http(t).get('/list-things?sort=-colour'), 400);
    });

    it('rejects an unknown operator with 400', async () => {
      expectNestError(await http(t).get('/list-things?amount[between]=1'), 400);
    });

    it('rejects [prefix] on a number field with 400', async () => {
      expectNestError(await http(t).get('/list-things?amount[prefix]=1'), 400);
    });

    it('rejects values that do not convert to the field type with 400', async () => {
      expect(expectNestError(await http(t).get('/list-things?amount=ten'), 400)).toContain('amount');
      expect(expectNestError(await http(t).get('/list-things?amount[in]=10,ten'), 400)).toContain('amount');
      expect(expectNestError(await http(t).get('/list-things?active=yes'), 400)).toContain('active');
      expect(expectNestError(await http(t).get('/list-things?dueAt=tomorrow'), 400)).toContain('dueAt');
    });

    it('rejects limit=0 and limit=1001 with 400, and accepts limit=1000', async () => {
      expectNestError(await http(t).get('/list-things?limit=0'), 400);
      expectNestError(await http(t).get('/list-things?limit=1001'), 400);
      expectNestError(await http(t).get('/list-things?limit=-1'), 400);
      expectNestError(await http(t).get('/list-things?limit=ten'), 400);
      expect((await list('?limit=1000')).items).toHaveLength(THINGS.length);
    });

    it('rejects a cursor made for another sort with 400', async () => {
      const page = await list('?sort=amount&limit=2');
      expect(page.nextCursor).toEqual(expect.any(String));
      expectNestError(await http(t).get(`/list-things?sort=-amount&limit=2&cursor=${encodeURIComponent(page.nextCursor!)}`), 400);
      expectNestError(await http(t).get(`/list-things?limit=2&cursor=${encodeURIComponent(page.nextCursor!)}`), 400);
    });

    it('rejects a malformed cursor with 400', async () => {
      expectNestError(await http(t).get('/list-things?cursor=not-a-cursor'), 400);
      expectNestError(await http(t).get('/list-things?cursor=%25%25%25'), 400);
      const wrongShape = Buffer.from(JSON.stringify({ sort: 'id' })).toString('base64url');
      expectNestError(await http(t).get(`/list-things?cursor=${wrongShape}`), 400);
      const wrongTypes = Buffer.from(JSON.stringify(['id', {}, 5])).toString('base64url');
      expectNestError(await http(t).get(`/list-things?cursor=${wrongTypes}`), 400);
    });

    it.each([
      ['creation order', {}],
      ['sort=-id', { sort: '-id' }],
      ['an indexed field', { sort: 'amount' }],
      ['an indexed field descending', { sort: '-amount' }],
      ['an unindexed field', { sort: 'score' }],
      ['an unindexed field descending', { sort: '-score' }],
      ['a string field', { sort: 'name' }],
      ['a filter on the composite index', { category: 'a', status: 'open' }],
      ['a filter and a sort', { active: 'false', sort: '-amount' }],
      ['a range filter sorted by its field', { 'amount[gte]': '20', sort: 'amount' }],
    ] as [string, Record<string, string>][])('walks pages of one record with %s and visits each match once, in order', async (_label, query) => {
      const all = await list(`?${new URLSearchParams(query).toString()}`);
      expect(all.nextCursor).toBeNull();
      const walked = await walkPages(t, '/list-things', { ...query, limit: '1' });
      expect(walked.items).toEqual(all.items);
      expect(walked.pages).toBe(all.items.length);
      const walkedByTwo = await walkPages(t, '/list-things', { ...query, limit: '3' });
      expect(walkedByTwo.items).toEqual(all.items);
    });
  });

  describe('pagination', () => {
    it('answers 50 records by default with a cursor to the rest', async () => {
      const t = await createTestApp({ entities: [Thing], platform });
      try {
        const batch = Array.from({ length: 55 }, (_, i) => ({
          name: `n${String(i).padStart(3, '0')}`,
          category: 'p',
          status: 'open',
          amount: i % 7,
          active: i % 2 === 0,
        }));
        await http(t).post('/list-things/batch').send(batch).expect(201);
        const first = await http(t).get('/list-things');
        expect(first.status).toBe(200);
        expect(first.body.items).toHaveLength(50);
        expect(first.body.nextCursor).toEqual(expect.any(String));
        expect(names(first.body.items)).toEqual(batch.slice(0, 50).map((b) => b.name));
        const second = await http(t).get(`/list-things?cursor=${encodeURIComponent(first.body.nextCursor)}`);
        expect(second.status).toBe(200);
        expect(names(second.body.items)).toEqual(batch.slice(50).map((b) => b.name));
        expect(second.body.nextCursor).toBeNull();
      } finally {
        await t.close();
      }
    });

    it('answers nextCursor null when the page holds exactly the last records', async () => {
      const t = await createTestApp({ entities: [Thing], platform });
      try {
        const batch = Array.from({ length: 4 }, (_, i) => ({ name: `x${i}`, category: 'q', status: 'open', amount: i, active: true }));
        await http(t).post('/list-things/batch').send(batch).expect(201);
        const first = await http(t).get('/list-things?limit=2');
        expect(first.body.nextCursor).toEqual(expect.any(String));
        const second = await http(t).get(`/list-things?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
        expect(names(second.body.items)).toEqual(['x2', 'x3']);
        expect(second.body.nextCursor).toBeNull();
        const empty = await http(t).get('/list-things?name=nobody');
        expect(empty.body).toEqual({ items: [], nextCursor: null });
      } finally {
        await t.close();
      }
    });

    /**
     * Walks with `limit=2` while, after every page, a record that sorts after the cursor
     * is inserted, a not yet visited record is deleted, and the last visited one is deleted
     * too (so the cursor points at a record that no longer exists).
     */
    it.each([
      ['creation order', {}],
      ['sort=-id', { sort: '-id' }],
      ['an indexed field', { sort: 'amount' }],
      ['an indexed field descending', { sort: '-amount' }],
      ['an unindexed field', { sort: 'score' }],
      ['an unindexed field descending', { sort: '-score' }],
      ['a filter on the composite index', { category: 'm', status: 'open' }],
    ] as [string, Record<string, string>][])(
      'visits every record exactly once, in order, with %s while records are inserted and deleted between pages',
      async (_label, query) => {
        const t = await createTestApp({ entities: [Thing], platform });
        try {
          const descending = query.sort?.startsWith('-') ?? false;
          const sortField = query.sort?.replace(/^-/, '') ?? 'id';
          // Unique amounts/scores, so the order is fully determined by the value.
          const initial = Array.from({ length: 12 }, (_, i) => ({
            name: `w${String(i).padStart(2, '0')}`,
            category: 'm',
            status: 'open',
            amount: 100 + i * 10,
            active: true,
            score: 100 + i * 10,
          }));
          const createdResponse = await http(t).post('/list-things/batch').send(initial);
          expect(createdResponse.status).toBe(201);
          const alive = new Map<string, any>(createdResponse.body.map((record: any) => [record.id as string, record]));
          const deletedBeforeVisit = new Set<string>();
          const inserted: any[] = [];
          const seen = new Set<string>();
          let extra = 0;

          const keyOf = (record: any): number | string => (sortField === 'id' ? (record.id as string) : (record[sortField] as number));
          const after = (a: number | string, b: number | string) => (descending ? a < b : a > b);

          const walked = await walkPages(t, '/list-things', { ...query, limit: '2' }, async (_page, items) => {
            for (const item of items) seen.add(item.id);
            const last = items[items.length - 1];
            // Insert one that sorts after every initial record (a new id is always greater;
            // initial amounts and scores lie in 100..210).
            extra += 1;
            const value = descending ? 50 - extra : 1000 + extra;
            const insert = await http(t)
              .post('/list-things')
              .send({ name: `ins${extra}`, category: 'm', status: 'open', amount: value, active: true, score: value });
            expect(insert.status).toBe(201);
            // With sort=-id a new record sorts before the cursor; it must simply not break the walk.
            if (!(sortField === 'id' && descending)) inserted.push(insert.body);
            // Delete a not yet visited record, if any is left.
            const pending = [...alive.values()].filter((r) => !seen.has(r.id) && after(keyOf(r), keyOf(last)));
            const victim = pending[pending.length - 1];
            if (victim && pending.length > 2) {
              await http(t).delete(`/list-things/${victim.id}`).expect(204);
              alive.delete(victim.id);
              deletedBeforeVisit.add(victim.id);
            }
            // Delete the record the cursor points at.
            await http(t).delete(`/list-things/${last.id}`).expect(204);
            alive.delete(last.id);
          });

          expect(deletedBeforeVisit.size).toBeGreaterThan(0);
          if (!(sortField === 'id' && descending)) expect(inserted.length).toBeGreaterThan(0);
          const ids = walked.items.map((item) => item.id as string);
          expect(new Set(ids).size).toBe(ids.length);
          for (const id of deletedBeforeVisit) expect(ids).not.toContain(id);
          for (const record of createdResponse.body) {
            if (!deletedBeforeVisit.has(record.id)) expect(ids).toContain(record.id);
          }
          for (const record of inserted) expect(ids).toContain(record.id);
          const keys = walked.items.map(keyOf);
          for (let i = 1; i < keys.length; i++) expect(after(keys[i]!, keys[i - 1]!)).toBe(true);
        } finally {
          await t.close();
        }
      },
    );
  });
});

@Entity('list-quotas')
class Quota {
  @Field() name!: string;
  @Field() limit!: number;
}

describe('a field named like a parameter of the list', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ entities: [Quota] });
    for (const [name, limit] of [
      ['a', 7],
      ['b', 9],
      ['c', 9],
    ] as const)
      expect((await http(t).post('/list-quotas').send({ name, limit })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is filtered as limit[eq], which is how the OpenAPI document names it, while limit stays the page size', async () => {
    expect((await http(t).get('/list-quotas?limit[eq]=7')).body.items.map((quota: Quota) => quota.name)).toEqual(['a']);
    expect((await http(t).get('/list-quotas?limit=2')).body.items.map((quota: Quota) => quota.name)).toEqual(['a', 'b']);
    const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
    const parameters = (document.paths['/list-quotas']!.get!.parameters as Array<{ name: string; in: string }>)
      .filter((p) => p.in === 'query')
      .map((p) => p.name);
    expect(parameters.filter((name) => name.startsWith('limit'))).toEqual(['limit[eq]', 'limit']);
  });
});
