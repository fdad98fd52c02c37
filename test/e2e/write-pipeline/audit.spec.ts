import { Audited, AuditService, Entity, EntityRepository, Field, getRepositoryToken, Historize, Index } from '../../../lib/index.js';
import { PLATFORMS } from '../../support/test-app.util.js';
import { api, ISO, NEVER_USED_ID, withApp } from './write-pipeline.util.js';

@Entity({ name: 'wp-permits', path: 'permits' })
@Audited()
class Permit {
  @Field() @Index({ unique: true }) number!: string;
  @Field() status!: string;
  @Field({ required: false }) note?: string;
  @Field({ required: false, hidden: true }) secret?: string;
}

@Entity({ name: 'wp-tickets', path: 'tickets' })
@Audited()
@Historize('never')
class Ticket {
  @Field() title!: string;
}

@Entity({ name: 'wp-notes', path: 'notes' })
class Note {
  @Field() text!: string;
}

describe.each(PLATFORMS)('GET /P/:id/audit on %s', (platform) => {
  const entities = [Permit, Note, Ticket];

  it('lists create, replace, update and delete oldest first, with actor, time, version and changes', async () => {
    await withApp(platform, entities, async (t) => {
      const created = await api(t).post('/permits').set('X-User', 'alice').send({ number: 'P-1', status: 'draft', secret: 'hunter2' }).expect(201);
      const id = created.body.id as string;
      const replaced = await api(t).put(`/permits/${id}`).set('X-User', 'bob').send({ number: 'P-1', status: 'review', note: 'n' }).expect(200);
      const updated = await api(t).patch(`/permits/${id}`).set('X-User', 'carol').send({ note: null, secret: 'swordfish' }).expect(200);
      await api(t).delete(`/permits/${id}`).set('X-User', 'dave').expect(204);

      const response = await api(t).get(`/permits/${id}/audit`).expect(200);
      const withoutRequest = response.body.items.map(({ request: _request, ...rest }: Record<string, unknown>) => rest);
      expect(withoutRequest).toEqual([
        {
          action: 'create',
          actor: 'alice',
          at: created.body.createdAt,
          version: 1,
          changes: { number: { from: null, to: 'P-1' }, status: { from: null, to: 'draft' }, secret: { from: null, to: '[hidden]' } },
        },
        {
          action: 'replace',
          actor: 'bob',
          at: replaced.body.updatedAt,
          version: 2,
          // The PUT left out the hidden secret, which bob could not have read back: it is kept.
          changes: { status: { from: 'draft', to: 'review' }, note: { from: null, to: 'n' } },
        },
        {
          action: 'update',
          actor: 'carol',
          at: updated.body.updatedAt,
          version: 3,
          changes: { note: { from: 'n', to: null }, secret: { from: '[hidden]', to: '[hidden]' } },
        },
        {
          action: 'delete',
          actor: 'dave',
          at: expect.stringMatching(ISO),
          version: 3,
          changes: { number: { from: 'P-1', to: null }, status: { from: 'review', to: null }, secret: { from: '[hidden]', to: null } },
        },
      ]);
      expect(response.text).not.toMatch(/hunter2|swordfish/);
    });
  });

  it("keeps the request's X-Request-Id and route with each entry", async () => {
    await withApp(platform, entities, async (t) => {
      const id = (await api(t).post('/permits').set('X-Request-Id', 'req-create-1').send({ number: 'P-1', status: 'draft' }).expect(201)).body.id;
      await api(t).patch(`/permits/${id}`).set('X-Request-Id', 'req-patch-2').send({ status: 'issued' }).expect(200);
      await api(t).delete(`/permits/${id}`).expect(204);

      const items = (await api(t).get(`/permits/${id}/audit`).expect(200)).body.items;
      expect(items.map((item: { request?: unknown }) => item.request)).toEqual([
        expect.objectContaining({ id: 'req-create-1', route: 'POST /permits' }),
        expect.objectContaining({ id: 'req-patch-2', route: `PATCH /permits/${id}` }),
        expect.objectContaining({ id: expect.any(String), route: `DELETE /permits/${id}` }),
      ]);
      expect(items[2].request.id).not.toBe('req-patch-2');
    });
  });

  it('records the route without its query string', async () => {
    await withApp(platform, entities, async (t) => {
      const id = (await api(t).post('/permits?source=test').send({ number: 'P-1', status: 'draft' }).expect(201)).body.id;
      const items = (await api(t).get(`/permits/${id}/audit`).expect(200)).body.items;
      expect(items[0].request.route).toBe('POST /permits');
    });
  });

  it('answers 404 for an id that never existed', async () => {
    await withApp(platform, entities, async (t) => {
      await api(t).post('/permits').send({ number: 'P-1', status: 'draft' }).expect(201);
      const response = await api(t).get(`/permits/${NEVER_USED_ID}/audit`);
      expect(response.status).toBe(404);
      expect(response.body).toEqual(expect.objectContaining({ statusCode: 404, error: 'Not Found' }));
    });
  });

  it('answers the trail of a deleted record of an entity that keeps no history, and 404 for an id it never had', async () => {
    await withApp(platform, entities, async (t) => {
      const id = (await api(t).post('/tickets').send({ title: 'a' }).expect(201)).body.id;
      await api(t).delete(`/tickets/${id}`).expect(204);
      const items = (await api(t).get(`/tickets/${id}/audit`).expect(200)).body.items;
      expect(items.map((e: { action: string }) => e.action)).toEqual(['create', 'delete']);
      await api(t).get(`/tickets/${NEVER_USED_ID}/audit`).expect(404);
    });
  });

  it('has no audit route for an entity that is not @Audited', async () => {
    await withApp(platform, entities, async (t) => {
      const id = (await api(t).post('/notes').send({ text: 'x' }).expect(201)).body.id;
      await api(t).get(`/notes/${id}`).expect(200);
      await api(t).get(`/notes/${id}/audit`).expect(404);
      expect((await t.app.get(AuditService).find({})).items).toEqual([]);
    });
  });

  it('serves the same entries through AuditService.find by entity, record and actor', async () => {
    await withApp(platform, entities, async (t) => {
      const p1 = (await api(t).post('/permits').set('X-User', 'alice').send({ number: 'P-1', status: 'a' }).expect(201)).body.id;
      const p2 = (await api(t).post('/permits').set('X-User', 'bob').send({ number: 'P-2', status: 'a' }).expect(201)).body.id;
      await api(t).patch(`/permits/${p1}`).set('X-User', 'bob').send({ status: 'b' }).expect(200);

      const audit = t.app.get(AuditService);
      const summary = (items: Array<{ id: string; action: string; actor?: string }>) => items.map((e) => `${e.id} ${e.action} ${e.actor}`);
      expect(summary((await audit.find({ entity: 'wp-permits' })).items)).toEqual([`${p1} create alice`, `${p2} create bob`, `${p1} update bob`]);
      expect(summary((await audit.find({ entity: 'wp-permits', id: p1 })).items)).toEqual([`${p1} create alice`, `${p1} update bob`]);
      expect(summary((await audit.find({ actor: 'bob' })).items)).toEqual([`${p2} create bob`, `${p1} update bob`]);
      const http = (await api(t).get(`/permits/${p1}/audit`).expect(200)).body.items;
      expect(http.map((e: { at: string }) => e.at)).toEqual((await audit.find({ entity: 'wp-permits', id: p1 })).items.map((e) => e.at));
    });
  });

  it('answers a trail that fits one page as { items }, and pages a longer one with limit and cursor', async () => {
    await withApp(platform, entities, async (t) => {
      const id = (await api(t).post('/permits').send({ number: 'P-1', status: 's0' }).expect(201)).body.id as string;
      for (let step = 1; step <= 6; step++)
        await api(t)
          .patch(`/permits/${id}`)
          .send({ status: `s${step}` })
          .expect(200);
      const whole = (await api(t).get(`/permits/${id}/audit`).expect(200)).body;
      expect(Object.keys(whole)).toEqual(['items']);
      expect(whole.items.map((e: { version: number }) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);

      const versions: number[] = [];
      const pages: number[] = [];
      let cursor: string | undefined;
      do {
        const page = (
          await api(t)
            .get(`/permits/${id}/audit`)
            .query({ limit: 3, ...(cursor && { cursor }) })
            .expect(200)
        ).body;
        pages.push(page.items.length);
        versions.push(...page.items.map((e: { version: number }) => e.version));
        cursor = page.nextCursor;
        if (cursor !== undefined) expect(cursor).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      } while (cursor !== undefined);
      expect(pages).toEqual([3, 3, 1]);
      expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });
  });

  it('answers at most 1000 entries without a limit, and the rest after the cursor', async () => {
    await withApp(platform, entities, async (t) => {
      const permits = t.app.get<EntityRepository<Permit>>(getRepositoryToken(Permit));
      const { id } = await permits.create({ number: 'P-1', status: 's0' });
      await permits.transaction((tx) => {
        for (let step = 1; step <= 1000; step++) tx.update(Permit, id, { status: `s${step}` });
      });
      const first = (await api(t).get(`/permits/${id}/audit`).expect(200)).body;
      expect(first.items).toHaveLength(1000);
      expect(first.items[999].version).toBe(1000);
      const rest = (await api(t).get(`/permits/${id}/audit`).query({ cursor: first.nextCursor }).expect(200)).body;
      expect(rest).toEqual({ items: [expect.objectContaining({ action: 'update', version: 1001 })] });
    });
  });

  it.each([
    ['limit=0', /limit must be an integer from 1 to 1000/],
    ['limit=1001', /limit must be an integer from 1 to 1000/],
    ['limit=ten', /limit must be an integer from 1 to 1000/],
    ['limit=2&limit=3', /query parameter limit is repeated/],
    ['cursor=not-a-cursor', /cursor must be the nextCursor of the page before/],
    ['status=open', /unknown query parameter status: the audit trail takes only limit and cursor/],
  ])('refuses ?%s with 400', async (query, message) => {
    await withApp(platform, entities, async (t) => {
      const id = (await api(t).post('/permits').send({ number: 'P-1', status: 'a' }).expect(201)).body.id;
      const response = await api(t).get(`/permits/${id}/audit?${query}`).expect(400);
      expect(response.body).toEqual(expect.objectContaining({ statusCode: 400, message: expect.stringMatching(message) }));
    });
  });

  it('keeps auditing after the first audited write of the app is refused with 409', async () => {
    await withApp(platform, entities, async (t) => {
      await api(t)
        .post('/permits/batch')
        .send([
          { number: 'P-1', status: 'a' },
          { number: 'P-1', status: 'b' },
        ])
        .expect(409);
      const id = (await api(t).post('/permits').set('X-User', 'alice').send({ number: 'P-1', status: 'a' }).expect(201)).body.id;

      const response = await api(t).get(`/permits/${id}/audit`);
      expect(response.status).toBe(200);
      expect(response.body.items.map((e: { action: string; actor: string }) => `${e.action} ${e.actor}`)).toEqual(['create alice']);
    });
  });
});
