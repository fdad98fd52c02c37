import { Length, Min } from 'class-validator';
import { Entity, Field, Index } from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../support/test-app.util.js';
import { expectNestError, http, ISO_TIMESTAMP, messagesOf, unique } from './support/e2e.util.js';

@Entity('crud-items')
class Item {
  @Field()
  @Index({ unique: true })
  @Length(1, 40)
  code!: string;

  @Field()
  @Length(1, 20)
  title!: string;

  @Field({ required: false })
  @Min(0)
  amount?: number;
}

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe.each(PLATFORMS)('record routes on %s', (platform) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Item], platform });
  });

  afterAll(async () => {
    await t?.close();
  });

  async function create(fields: Partial<Item> = {}): Promise<any> {
    const response = await http(t)
      .post('/crud-items')
      .send({ code: unique('code'), title: 'first', ...fields });
    expect(response.status).toBe(201);
    return response.body;
  }

  async function codeCount(code: string): Promise<number> {
    const response = await http(t).get('/crud-items').query({ code });
    expect(response.status).toBe(200);
    return (response.body.items as unknown[]).length;
  }

  describe('POST /P', () => {
    it('creates a record with id, version 1, timestamps and ETag "1"', async () => {
      const code = unique('code');
      const response = await http(t).post('/crud-items').send({ code, title: 'hello', amount: 5 });
      expect(response.status).toBe(201);
      expect(response.headers['etag']).toBe('"1"');
      expect(response.body).toEqual({
        id: expect.stringMatching(ULID),
        version: 1,
        createdAt: expect.stringMatching(ISO_TIMESTAMP),
        updatedAt: expect.stringMatching(ISO_TIMESTAMP),
        code,
        title: 'hello',
        amount: 5,
      });
      expect(response.body.updatedAt).toBe(response.body.createdAt);
    });

    it('rejects a body that breaks a validation rule with 400 naming the field', async () => {
      const response = await http(t)
        .post('/crud-items')
        .send({ code: unique('code'), title: 'x'.repeat(21) });
      expect(expectNestError(response, 400)).toContain('title');
    });

    it('rejects a missing required field with 400', async () => {
      const code = unique('code');
      const response = await http(t).post('/crud-items').send({ code });
      expect(expectNestError(response, 400)).toContain('title');
      expect(await codeCount(code)).toBe(0);
    });

    it('rejects a value of the wrong type with 400', async () => {
      const response = await http(t)
        .post('/crud-items')
        .send({ code: unique('code'), title: 'ok', amount: 'five' });
      expect(expectNestError(response, 400)).toContain('amount');
    });

    it('rejects a duplicate unique value with 409', async () => {
      const first = await create();
      const response = await http(t).post('/crud-items').send({ code: first.code, title: 'again' });
      expectNestError(response, 409);
      expect(await codeCount(first.code)).toBe(1);
    });
  });

  describe('POST /P/batch', () => {
    it('creates every element and answers 201 with the records in order', async () => {
      const codes = [unique('batch'), unique('batch'), unique('batch')];
      const response = await http(t)
        .post('/crud-items/batch')
        .send(codes.map((code, i) => ({ code, title: `t${i}`, amount: i })));
      expect(response.status).toBe(201);
      expect(response.body).toHaveLength(3);
      response.body.forEach((record: any, i: number) => {
        expect(record).toEqual({
          id: expect.stringMatching(ULID),
          version: 1,
          createdAt: expect.stringMatching(ISO_TIMESTAMP),
          updatedAt: expect.stringMatching(ISO_TIMESTAMP),
          code: codes[i],
          title: `t${i}`,
          amount: i,
        });
      });
      expect(new Set(response.body.map((r: any) => r.id)).size).toBe(3);
      for (const record of response.body) {
        const read = await http(t).get(`/crud-items/${record.id}`);
        expect(read.status).toBe(200);
        expect(read.body).toEqual(record);
      }
    });

    it('rejects an invalid element with 400 naming its index and stores nothing', async () => {
      const good = unique('batch');
      const bad = unique('batch');
      const response = await http(t)
        .post('/crud-items/batch')
        .send([{ code: good, title: 'fine' }, { code: bad }, { code: unique('batch'), title: 'fine' }]);
      const message = expectNestError(response, 400);
      expect(messagesOf(response).some((m) => m.startsWith('[1]') && m.includes('title'))).toBe(true);
      expect(message).not.toMatch(/\[0\]|\[2\]/);
      expect(await codeCount(good)).toBe(0);
      expect(await codeCount(bad)).toBe(0);
    });

    it('names the index of an element with an unknown property', async () => {
      const response = await http(t)
        .post('/crud-items/batch')
        .send([
          { code: unique('batch'), title: 'a' },
          { code: unique('batch'), title: 'b' },
          { code: unique('batch'), title: 'c', colour: 'red' },
        ]);
      expectNestError(response, 400);
      expect(messagesOf(response).some((m) => m.startsWith('[2]') && m.includes('colour'))).toBe(true);
    });

    it('rejects a unique conflict inside the batch with 409 and stores nothing', async () => {
      const other = unique('batch');
      const twice = unique('batch');
      const response = await http(t)
        .post('/crud-items/batch')
        .send([
          { code: other, title: 'a' },
          { code: twice, title: 'b' },
          { code: twice, title: 'c' },
        ]);
      expectNestError(response, 409);
      expect(await codeCount(other)).toBe(0);
      expect(await codeCount(twice)).toBe(0);
    });

    it('rejects a unique conflict with existing data with 409 and stores nothing', async () => {
      const existing = await create();
      const fresh = unique('batch');
      const response = await http(t)
        .post('/crud-items/batch')
        .send([
          { code: fresh, title: 'a' },
          { code: existing.code, title: 'b' },
        ]);
      expectNestError(response, 409);
      expect(await codeCount(fresh)).toBe(0);
      expect(await codeCount(existing.code)).toBe(1);
    });

    it('rejects a body that is not an array with 400', async () => {
      const response = await http(t)
        .post('/crud-items/batch')
        .send({ code: unique('batch'), title: 'a' });
      expectNestError(response, 400);
    });
  });

  describe('GET /P/:id', () => {
    it('reads a record with its version as ETag', async () => {
      const created = await create({ amount: 3 });
      const response = await http(t).get(`/crud-items/${created.id}`);
      expect(response.status).toBe(200);
      expect(response.headers['etag']).toBe('"1"');
      expect(response.body).toEqual(created);
    });

    it('sends the current version as ETag after an update', async () => {
      const created = await create();
      await http(t).patch(`/crud-items/${created.id}`).send({ title: 'second' }).expect(200);
      await http(t).patch(`/crud-items/${created.id}`).send({ title: 'third' }).expect(200);
      const response = await http(t).get(`/crud-items/${created.id}`);
      expect(response.status).toBe(200);
      expect(response.headers['etag']).toBe('"3"');
      expect(response.body.version).toBe(3);
    });

    it('answers 404 for an id that does not exist', async () => {
      const response = await http(t).get('/crud-items/01ARZ3NDEKTSV4RRFFQ69G5FAV');
      expectNestError(response, 404);
    });

    it('answers 304 without a body to an If-None-Match that names the current version', async () => {
      const created = await create();
      for (const header of ['"1"', 'W/"1"', '"7", "1"', '*']) {
        const response = await http(t).get(`/crud-items/${created.id}`).set('If-None-Match', header);
        expect([header, response.status]).toEqual([header, 304]);
        expect(response.headers['etag']).toBe('"1"');
        expect(response.text ?? '').toBe('');
      }
    });

    it('sends the record to an If-None-Match that names another version, or that cannot be read', async () => {
      const created = await create();
      await http(t).patch(`/crud-items/${created.id}`).send({ title: 'second' }).expect(200);
      for (const header of ['"1"', '"2', '2', 'W/"1", "3"', '']) {
        const response = await http(t).get(`/crud-items/${created.id}`).set('If-None-Match', header);
        expect([header, response.status]).toEqual([header, 200]);
        expect(response.headers['etag']).toBe('"2"');
        expect(response.body.title).toBe('second');
      }
    });

    it('refuses a query parameter it does not take, or one given twice, rather than ignore it', async () => {
      const created = await create();
      expect(expectNestError(await http(t).get(`/crud-items/${created.id}?verison=1`), 400)).toBe(
        'unknown query parameter verison: a read of one record takes only version and asOf and include',
      );
      expect(expectNestError(await http(t).get(`/crud-items/${created.id}?version=1&version=1`), 400)).toBe('query parameter version is repeated');
    });

    it('answers 404, not 304, to an If-None-Match: * for an id that does not exist', async () => {
      const response = await http(t).get('/crud-items/01ARZ3NDEKTSV4RRFFQ69G5FAV').set('If-None-Match', '*');
      expectNestError(response, 404);
    });
  });

  describe('PUT /P/:id', () => {
    it('replaces the record, bumps the version and keeps id and createdAt', async () => {
      const created = await create({ amount: 7 });
      const code = unique('code');
      const response = await http(t).put(`/crud-items/${created.id}`).send({ code, title: 'replaced' });
      expect(response.status).toBe(200);
      expect(response.headers['etag']).toBe('"2"');
      expect(response.body).toEqual({
        id: created.id,
        version: 2,
        createdAt: created.createdAt,
        updatedAt: expect.stringMatching(ISO_TIMESTAMP),
        code,
        title: 'replaced',
      });
      const read = await http(t).get(`/crud-items/${created.id}`);
      expect(read.body).toEqual(response.body);
    });

    it('validates the body as a create: a missing required field gets 400 and changes nothing', async () => {
      const created = await create();
      const response = await http(t).put(`/crud-items/${created.id}`).send({ code: created.code });
      expect(expectNestError(response, 400)).toContain('title');
      const read = await http(t).get(`/crud-items/${created.id}`);
      expect(read.body).toEqual(created);
    });

    it('answers 404 for an id that does not exist', async () => {
      const response = await http(t)
        .put('/crud-items/01ARZ3NDEKTSV4RRFFQ69G5FAV')
        .send({ code: unique('code'), title: 'x' });
      expectNestError(response, 404);
    });

    it('rejects a unique value held by another record with 409 and changes nothing', async () => {
      const first = await create();
      const second = await create();
      const response = await http(t).put(`/crud-items/${second.id}`).send({ code: first.code, title: 'clash' });
      expectNestError(response, 409);
      const read = await http(t).get(`/crud-items/${second.id}`);
      expect(read.body).toEqual(second);
    });

    it('rejects a stale If-Match with 412 and changes nothing', async () => {
      const created = await create();
      await http(t).patch(`/crud-items/${created.id}`).send({ title: 'v2' }).expect(200);
      const response = await http(t).put(`/crud-items/${created.id}`).set('If-Match', '"1"').send({ code: created.code, title: 'stale' });
      expectNestError(response, 412);
      const read = await http(t).get(`/crud-items/${created.id}`);
      expect(read.body.version).toBe(2);
      expect(read.body.title).toBe('v2');
    });

    it('accepts a current If-Match', async () => {
      const created = await create();
      const response = await http(t).put(`/crud-items/${created.id}`).set('If-Match', '"1"').send({ code: created.code, title: 'fresh' });
      expect(response.status).toBe(200);
      expect(response.body.version).toBe(2);
      expect(response.body.title).toBe('fresh');
    });

    it('writes nothing for the values stored: 200 at the same version, as a PATCH that changes nothing', async () => {
      const created = await create({ amount: 3 });
      const same = { code: created.code, title: created.title, amount: 3 };
      const put = await http(t).put(`/crud-items/${created.id}`).set('If-Match', '"1"').send(same);
      const patch = await http(t).patch(`/crud-items/${created.id}`).set('If-Match', '"1"').send({ title: created.title });
      for (const response of [put, patch]) {
        expect(response.status).toBe(200);
        expect(response.headers['etag']).toBe('"1"');
        expect(response.body).toEqual(created);
      }
      // Leaving the optional field out clears it: that is a change.
      const cleared = await http(t).put(`/crud-items/${created.id}`).send({ code: created.code, title: created.title });
      expect(cleared.status).toBe(200);
      expect(cleared.body.version).toBe(2);
      expect(cleared.body).not.toHaveProperty('amount');
    });
  });

  describe('PATCH /P/:id', () => {
    it('changes the given fields, keeps the others and bumps the version', async () => {
      const created = await create({ amount: 1 });
      const response = await http(t).patch(`/crud-items/${created.id}`).send({ amount: 2 });
      expect(response.status).toBe(200);
      expect(response.headers['etag']).toBe('"2"');
      expect(response.body).toEqual({
        ...created,
        version: 2,
        updatedAt: expect.stringMatching(ISO_TIMESTAMP),
        amount: 2,
      });
      expect(Date.parse(response.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));
      const read = await http(t).get(`/crud-items/${created.id}`);
      expect(read.body).toEqual(response.body);
    });

    it('clears an optional field given null', async () => {
      const created = await create({ amount: 4 });
      const response = await http(t).patch(`/crud-items/${created.id}`).send({ amount: null });
      expect(response.status).toBe(200);
      expect(response.body).not.toHaveProperty('amount');
      expect(response.body.version).toBe(2);
      expect((await http(t).get(`/crud-items/${created.id}`)).body).not.toHaveProperty('amount');
    });

    it('rejects null for a required field with 400 and changes nothing', async () => {
      const created = await create();
      const response = await http(t).patch(`/crud-items/${created.id}`).send({ title: null });
      expect(expectNestError(response, 400)).toContain('title');
      expect((await http(t).get(`/crud-items/${created.id}`)).body).toEqual(created);
    });

    it('frees the old unique value when it changes', async () => {
      const created = await create();
      const next = unique('code');
      await http(t).patch(`/crud-items/${created.id}`).send({ code: next }).expect(200);
      expect(await codeCount(created.code)).toBe(0);
      expect(await codeCount(next)).toBe(1);
      const reuse = await http(t).post('/crud-items').send({ code: created.code, title: 'reuse' });
      expect(reuse.status).toBe(201);
    });

    it('rejects an invalid value with 400 and changes nothing', async () => {
      const created = await create({ amount: 1 });
      const response = await http(t).patch(`/crud-items/${created.id}`).send({ amount: -5 });
      expect(expectNestError(response, 400)).toContain('amount');
      const read = await http(t).get(`/crud-items/${created.id}`);
      expect(read.body).toEqual(created);
    });

    it('answers 404 for an id that does not exist', async () => {
      const response = await http(t).patch('/crud-items/01ARZ3NDEKTSV4RRFFQ69G5FAV').send({ title: 'x' });
      expectNestError(response, 404);
    });

    it('rejects a unique value held by another record with 409 and changes nothing', async () => {
      const first = await create();
      const second = await create();
      const response = await http(t).patch(`/crud-items/${second.id}`).send({ code: first.code });
      expectNestError(response, 409);
      const read = await http(t).get(`/crud-items/${second.id}`);
      expect(read.body).toEqual(second);
    });

    it('rejects a stale If-Match with 412 and changes nothing', async () => {
      const created = await create();
      await http(t).patch(`/crud-items/${created.id}`).send({ title: 'v2' }).expect(200);
      const response = await http(t).patch(`/crud-items/${created.id}`).set('If-Match', '"1"').send({ title: 'stale' });
      expectNestError(response, 412);
      const read = await http(t).get(`/crud-items/${created.id}`);
      expect(read.body.version).toBe(2);
      expect(read.body.title).toBe('v2');
    });

    it('accepts the ETag it was given as If-Match', async () => {
      const created = await create();
      const read = await http(t).get(`/crud-items/${created.id}`);
      const response = await http(t)
        .patch(`/crud-items/${created.id}`)
        .set('If-Match', read.headers['etag'] as string)
        .send({ title: 'matched' });
      expect(response.status).toBe(200);
      expect(response.body.version).toBe(2);
    });
  });

  describe('DELETE /P/:id', () => {
    it('deletes with 204 and an empty body; a later GET answers 404', async () => {
      const created = await create();
      const response = await http(t).delete(`/crud-items/${created.id}`);
      expect(response.status).toBe(204);
      expect(response.text ?? '').toBe('');
      expectNestError(await http(t).get(`/crud-items/${created.id}`), 404);
      expect(await codeCount(created.code)).toBe(0);
    });

    it('refuses a query parameter other than purge, and keeps the record', async () => {
      const created = await create();
      for (const query of ['force=1', 'purge=true&purge=true', 'purge=1']) expectNestError(await http(t).delete(`/crud-items/${created.id}?${query}`), 400);
      expect(expectNestError(await http(t).delete(`/crud-items/${created.id}?force=1`), 400)).toBe('unknown query parameter force: a delete takes only purge');
      await http(t).get(`/crud-items/${created.id}`).expect(200);
    });

    it('frees the unique value of the deleted record', async () => {
      const created = await create();
      await http(t).delete(`/crud-items/${created.id}`).expect(204);
      const again = await http(t).post('/crud-items').send({ code: created.code, title: 'reborn' });
      expect(again.status).toBe(201);
      expect(again.body.id).not.toBe(created.id);
    });

    it('answers 404 for an id that does not exist, also on a second delete', async () => {
      const created = await create();
      await http(t).delete(`/crud-items/${created.id}`).expect(204);
      expectNestError(await http(t).delete(`/crud-items/${created.id}`), 404);
      expectNestError(await http(t).delete('/crud-items/01ARZ3NDEKTSV4RRFFQ69G5FAV'), 404);
    });

    it('rejects a stale If-Match with 412 and keeps the record', async () => {
      const created = await create();
      await http(t).patch(`/crud-items/${created.id}`).send({ title: 'v2' }).expect(200);
      expectNestError(await http(t).delete(`/crud-items/${created.id}`).set('If-Match', '"1"'), 412);
      const read = await http(t).get(`/crud-items/${created.id}`);
      expect(read.status).toBe(200);
      expect(read.body.version).toBe(2);
    });

    it('deletes with a current If-Match', async () => {
      const created = await create();
      await http(t).delete(`/crud-items/${created.id}`).set('If-Match', '"1"').expect(204);
      expectNestError(await http(t).get(`/crud-items/${created.id}`), 404);
    });
  });
});
