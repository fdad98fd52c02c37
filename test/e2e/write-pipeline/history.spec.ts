import { Entity, Field, Historize } from '../../../lib/index.js';
import { PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { api, ISO, NEVER_USED_ID, withApp } from './write-pipeline.util.js';

@Entity({ name: 'wp-permits', path: 'permits' })
@Historize({ versions: 2 })
class Permit {
  @Field() @Historize('full') status!: string;
  @Field() county!: string;
  @Field({ required: false }) @Historize('full') note?: string;
  @Field({ required: false }) @Historize('never') amount?: number;
  @Field({ required: false, hidden: true }) @Historize('full') secret?: string;
}

@Entity({ name: 'wp-notes', path: 'notes' })
class Note {
  @Field() @Historize({ versions: 3 }) text!: string;
  @Field({ required: false }) tag?: string;
}

/** A permit created as `{ status: 's1', county: 'c1', note: 'n1' }`, then patched with each change in turn; its id. */
async function permitChangedBy(t: TestApp, changes: Array<Partial<Permit>>): Promise<string> {
  const id = (await api(t).post('/permits').send({ status: 's1', county: 'c1', note: 'n1' }).expect(201)).body.id as string;
  for (const change of changes) await api(t).patch(`/permits/${id}`).send(change).expect(200);
  return id;
}

describe.each(PLATFORMS)('GET /P/:id/history on %s', (platform) => {
  const entities = [Permit, Note];

  it("lists every value of a 'full' field newest first, with version, time and the principal as actor", async () => {
    await withApp(platform, entities, async (t) => {
      const v1 = await api(t).post('/permits').set('X-User', 'alice').send({ status: 'draft', county: 'Kent' }).expect(201);
      const id = v1.body.id as string;
      const v2 = await api(t).patch(`/permits/${id}`).set('X-User', 'bob').send({ status: 'review' }).expect(200);
      const v3 = await api(t).put(`/permits/${id}`).set('X-User', 'carol').send({ status: 'issued', county: 'Kent' }).expect(200);

      const response = await api(t).get(`/permits/${id}/history`).expect(200);
      expect(response.body.id).toBe(id);
      expect(response.body.fields.status).toEqual([
        { value: 'issued', version: 3, at: v3.body.updatedAt, actor: 'carol' },
        { value: 'review', version: 2, at: v2.body.updatedAt, actor: 'bob' },
        { value: 'draft', version: 1, at: v1.body.updatedAt, actor: 'alice' },
      ]);
      for (const entry of response.body.fields.status) expect(entry.at).toMatch(ISO);
    });
  });

  it('keeps only the N most recent values of a { versions: N } field, the current one included', async () => {
    await withApp(platform, entities, async (t) => {
      const id = (await api(t).post('/notes').send({ text: 't1' }).expect(201)).body.id as string;
      for (const text of ['t2', 't3', 't4', 't5']) await api(t).patch(`/notes/${id}`).send({ text }).expect(200);

      const response = await api(t).get(`/notes/${id}/history`).expect(200);
      // Anonymous writes: every entry still has its actor key.
      expect(response.body.fields.text[0]).toEqual({ value: 't5', version: 5, at: expect.stringMatching(ISO), actor: null });
      expect(response.body.fields.text.map(({ value, version }: { value: string; version: number }) => ({ value, version }))).toEqual([
        { value: 't5', version: 5 },
        { value: 't4', version: 4 },
        { value: 't3', version: 3 },
      ]);
    });
  });

  it('applies a class-level @Historize to fields without their own policy, and a property policy over it', async () => {
    await withApp(platform, entities, async (t) => {
      const id = (await api(t).post('/permits').send({ status: 's1', county: 'c1' }).expect(201)).body.id as string;
      for (let i = 2; i <= 4; i++)
        await api(t)
          .patch(`/permits/${id}`)
          .send({ status: `s${i}`, county: `c${i}` })
          .expect(200);

      const { fields } = (await api(t).get(`/permits/${id}/history`).expect(200)).body;
      expect(fields.county.map((entry: { value: string }) => entry.value)).toEqual(['c4', 'c3']);
      expect(fields.status.map((entry: { value: string }) => entry.value)).toEqual(['s4', 's3', 's2', 's1']);
    });
  });

  it("leaves out fields whose policy is 'never', declared or by default", async () => {
    await withApp(platform, entities, async (t) => {
      const permit = (await api(t).post('/permits').send({ status: 'a', county: 'b', amount: 1 }).expect(201)).body;
      await api(t).patch(`/permits/${permit.id}`).send({ amount: 2 }).expect(200);
      const note = (await api(t).post('/notes').send({ text: 'x', tag: 'one' }).expect(201)).body;
      await api(t).patch(`/notes/${note.id}`).send({ tag: 'two' }).expect(200);

      const permitHistory = (await api(t).get(`/permits/${permit.id}/history`).expect(200)).body;
      expect(permitHistory.fields).not.toHaveProperty('amount');
      expect(Object.keys(permitHistory.fields).sort()).toEqual(['county', 'note', 'status']);
      const noteHistory = (await api(t).get(`/notes/${note.id}/history`).expect(200)).body;
      expect(Object.keys(noteHistory.fields)).toEqual(['text']);
    });
  });

  it('records null when PATCH clears an optional field', async () => {
    await withApp(platform, entities, async (t) => {
      const created = (await api(t).post('/permits').set('X-User', 'alice').send({ status: 'a', county: 'b', note: 'first' }).expect(201)).body;
      const cleared = await api(t).patch(`/permits/${created.id}`).set('X-User', 'bob').send({ note: null }).expect(200);
      expect(cleared.body).not.toHaveProperty('note');

      const { fields } = (await api(t).get(`/permits/${created.id}/history`).expect(200)).body;
      expect(fields.note).toEqual([
        { value: null, version: 2, at: cleared.body.updatedAt, actor: 'bob' },
        { value: 'first', version: 1, at: created.updatedAt, actor: 'alice' },
      ]);
    });
  });

  it('still answers 200 with the history of a deleted record', async () => {
    await withApp(platform, entities, async (t) => {
      const id = (await api(t).post('/permits').set('X-User', 'alice').send({ status: 'a', county: 'b' }).expect(201)).body.id;
      await api(t).patch(`/permits/${id}`).set('X-User', 'bob').send({ status: 'b' }).expect(200);
      await api(t).delete(`/permits/${id}`).set('X-User', 'carol').expect(204);
      await api(t).get(`/permits/${id}`).expect(404);

      const response = await api(t).get(`/permits/${id}/history`).expect(200);
      expect(response.body.id).toBe(id);
      expect(response.body.fields.status.map(({ value, actor }: { value: string; actor: string }) => ({ value, actor }))).toEqual([
        { value: 'b', actor: 'bob' },
        { value: 'a', actor: 'alice' },
      ]);
    });
  });

  it('answers 404 for an id that never existed', async () => {
    await withApp(platform, entities, async (t) => {
      await api(t).post('/permits').send({ status: 'a', county: 'b' }).expect(201);
      const response = await api(t).get(`/permits/${NEVER_USED_ID}/history`);
      expect(response.status).toBe(404);
      expect(response.body).toEqual(expect.objectContaining({ statusCode: 404, message: expect.any(String), error: 'Not Found' }));
    });
  });

  it('never shows a hidden field in a history response', async () => {
    await withApp(platform, entities, async (t) => {
      const id = (await api(t).post('/permits').send({ status: 'a', county: 'b', secret: 'hunter2' }).expect(201)).body.id;
      await api(t).patch(`/permits/${id}`).send({ secret: 'correct-horse' }).expect(200);
      await api(t).patch(`/permits/${id}`).send({ secret: null }).expect(200);

      const response = await api(t).get(`/permits/${id}/history`).expect(200);
      expect(response.body.fields).not.toHaveProperty('secret');
      expect(response.text).not.toMatch(/hunter2|correct-horse|secret/);
    });
  });

  it('pages each field with ?limit=, and goes on before the oldest version it gave with ?before=', async () => {
    await withApp(platform, entities, async (t) => {
      const id = await permitChangedBy(t, [...[2, 3, 4, 5, 6, 7].map((i) => ({ status: `s${i}` })), { note: 'n8' }]);
      const values = (fields: Record<string, { value: string; version: number }[]>) =>
        Object.fromEntries(Object.entries(fields).map(([name, entries]) => [name, entries.map((entry) => `${entry.value}@${entry.version}`)]));

      const first = (await api(t).get(`/permits/${id}/history?limit=3`).expect(200)).body;
      expect(first.id).toBe(id);
      expect(values(first.fields)).toEqual({ status: ['s7@7', 's6@6', 's5@5'], county: ['c1@1'], note: ['n8@8', 'n1@1'] });
      const second = (await api(t).get(`/permits/${id}/history?limit=3&before=5`).expect(200)).body;
      expect(values(second.fields)).toEqual({ status: ['s4@4', 's3@3', 's2@2'], county: ['c1@1'], note: ['n1@1'] });
      const last = (await api(t).get(`/permits/${id}/history?before=2`).expect(200)).body;
      expect(values(last.fields)).toEqual({ status: ['s1@1'], county: ['c1@1'], note: ['n1@1'] });
      // Before the first version, a record that exists has no values left, and is no 404.
      expect(values((await api(t).get(`/permits/${id}/history?before=1`).expect(200)).body.fields)).toEqual({ status: [], county: [], note: [] });
      // Each page is read on its own, not from another page's cached answer.
      expect(values((await api(t).get(`/permits/${id}/history`).expect(200)).body.fields).status).toHaveLength(7);
    });
  });

  it('pages one field with ?field=, each page before the oldest version of the one before', async () => {
    await withApp(platform, entities, async (t) => {
      const id = await permitChangedBy(t, [...[2, 3, 4, 5].map((i) => ({ note: `n${i}` })), { status: 's6' }]);
      const pages: string[][] = [];
      for (let before: number | undefined; ;) {
        const query = `field=note&limit=2${before === undefined ? '' : `&before=${before}`}`;
        const { fields } = (await api(t).get(`/permits/${id}/history?${query}`).expect(200)).body;
        expect(Object.keys(fields)).toEqual(['note']);
        if (fields.note.length === 0) break;
        pages.push(fields.note.map((entry: { value: string }) => entry.value));
        before = fields.note.at(-1).version;
      }
      expect(pages).toEqual([['n5', 'n4'], ['n3', 'n2'], ['n1']]);
    });
  });

  it.each([
    ['a field that does not exist', 'field=nope'],
    ["a field whose policy is 'never'", 'field=amount'],
    ['a hidden field', 'field=secret'],
  ])('answers 400 to ?field= naming %s, in the same words', async (_, query) => {
    await withApp(platform, entities, async (t) => {
      const id = (await api(t).post('/permits').send({ status: 'a', county: 'b', secret: 's' }).expect(201)).body.id as string;
      const response = await api(t).get(`/permits/${id}/history?${query}`).expect(400);
      expect(response.body.message).toBe(`wp-permits has no historized field ${query.slice('field='.length)}`);
    });
  });

  it('pages the history of a deleted record too, and answers 404 for an id that never existed', async () => {
    await withApp(platform, entities, async (t) => {
      const id = (await api(t).post('/permits').send({ status: 'a', county: 'b' }).expect(201)).body.id as string;
      await api(t).patch(`/permits/${id}`).send({ status: 'b' }).expect(200);
      await api(t).delete(`/permits/${id}`).expect(204);
      const page = (await api(t).get(`/permits/${id}/history?limit=1`).expect(200)).body;
      expect(page.fields.status.map((entry: { value: string }) => entry.value)).toEqual(['b']);
      expect((await api(t).get(`/permits/${id}/history?before=1`).expect(200)).body.fields.status).toEqual([]);
      await api(t).get(`/permits/${NEVER_USED_ID}/history?limit=1`).expect(404);
      await api(t).get(`/permits/${NEVER_USED_ID}/history?before=3`).expect(404);
    });
  });

  it.each([
    ['limit=0', /limit must be an integer from 1 to 1000/],
    ['limit=1001', /limit must be an integer from 1 to 1000/],
    ['limit=2.5', /limit must be an integer from 1 to 1000/],
    ['before=0', /before must be a positive integer/],
    ['before=-1', /before must be a positive integer/],
    ['before=x', /before must be a positive integer/],
    ['limit=1&limit=2', /query parameter limit is repeated/],
    ['cursor=abc', /unknown query parameter cursor: the history takes only field and limit and before/],
  ])('answers 400 to ?%s', async (query, message) => {
    await withApp(platform, entities, async (t) => {
      const id = (await api(t).post('/permits').send({ status: 'a', county: 'b' }).expect(201)).body.id as string;
      const response = await api(t).get(`/permits/${id}/history?${query}`).expect(400);
      expect(response.body.message).toMatch(message);
    });
  });
});
