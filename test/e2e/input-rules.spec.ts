import { IsOptional } from 'class-validator';
import { Entity, EntityRepository, Field, getRepositoryToken, Index } from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../support/test-app.util.js';
import { expectErrorStatus, expectNestError, http, ISO_TIMESTAMP, unique } from './support/e2e.util.js';

@Entity('input-docs')
class Doc {
  @Field()
  @Index({ unique: true })
  ref!: string;

  @Field({ immutable: true })
  owner!: string;

  @Field()
  title!: string;

  @Field({ required: false, hidden: true })
  @IsOptional()
  @Index()
  secret?: string;

  @Field({ required: false })
  note?: string;
}

const ONE_MIB = 1024 * 1024;

describe.each(PLATFORMS)('request bodies on %s', (platform) => {
  let t: TestApp;
  let repository: EntityRepository<Doc>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Doc], platform });
    repository = t.app.get<EntityRepository<Doc>>(getRepositoryToken(Doc));
  });

  afterAll(async () => {
    await t?.close();
  });

  afterEach(() => {
    // Pollution would leak into every later test; fail loudly and clean up.
    const polluted = Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted');
    delete (Object.prototype as Record<string, unknown>)['polluted'];
    expect(polluted).toBe(false);
  });

  function doc(fields: Record<string, unknown> = {}): Record<string, unknown> {
    return { ref: unique('ref'), owner: 'alice', title: 'a title', ...fields };
  }

  async function create(fields: Record<string, unknown> = {}): Promise<any> {
    const response = await http(t).post('/input-docs').send(doc(fields));
    expect(response.status).toBe(201);
    return response.body;
  }

  async function refCount(ref: string): Promise<number> {
    const response = await http(t).get('/input-docs').query({ ref });
    expect(response.status).toBe(200);
    return (response.body.items as unknown[]).length;
  }

  function expectNotPolluted(): void {
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    expect((Object as unknown as Record<string, unknown>)['polluted']).toBeUndefined();
  }

  describe('unknown properties', () => {
    it('rejects an unknown property on create with 400 naming it', async () => {
      const body = doc({ colour: 'red' });
      const response = await http(t).post('/input-docs').send(body);
      expect(expectNestError(response, 400)).toContain('colour');
      expect(await refCount(body.ref as string)).toBe(0);
    });

    it('rejects an unknown property on PUT and PATCH with 400 naming it', async () => {
      const created = await create();
      const put = await http(t).put(`/input-docs/${created.id}`).send({ ref: created.ref, owner: 'alice', title: 'x', shade: 1 });
      expect(expectNestError(put, 400)).toContain('shade');
      const patch = await http(t).patch(`/input-docs/${created.id}`).send({ title: 'x', flavour: 'mint' });
      expect(expectNestError(patch, 400)).toContain('flavour');
      const read = await http(t).get(`/input-docs/${created.id}`);
      expect(read.body).toEqual(created);
    });
  });

  describe('managed fields in a body', () => {
    it('ignores id, version, createdAt and updatedAt on create', async () => {
      const body = doc({ id: '01ARZ3NDEKTSV4RRFFQ69G5FAV', version: 42, createdAt: '2000-01-01T00:00:00.000Z', updatedAt: '2000-01-01T00:00:00.000Z' });
      const response = await http(t).post('/input-docs').send(body);
      expect(response.status).toBe(201);
      expect(response.body.id).not.toBe('01ARZ3NDEKTSV4RRFFQ69G5FAV');
      expect(response.body.version).toBe(1);
      expect(response.body.createdAt).not.toBe('2000-01-01T00:00:00.000Z');
      expect(response.body.createdAt).toMatch(ISO_TIMESTAMP);
      expect(response.body.updatedAt).not.toBe('2000-01-01T00:00:00.000Z');
      expectNestError(await http(t).get('/input-docs/01ARZ3NDEKTSV4RRFFQ69G5FAV'), 404);
      const stored = await repository.findById(response.body.id);
      expect(stored).toEqual(expect.objectContaining({ id: response.body.id, version: 1, createdAt: response.body.createdAt }));
    });

    it('ignores managed fields in every element of a batch', async () => {
      const response = await http(t)
        .post('/input-docs/batch')
        .send([doc({ id: 'mine-1', version: 9 }), doc({ createdAt: '2000-01-01T00:00:00.000Z' })]);
      expect(response.status).toBe(201);
      expect(response.body[0].id).not.toBe('mine-1');
      expect(response.body[0].version).toBe(1);
      expect(response.body[1].createdAt).not.toBe('2000-01-01T00:00:00.000Z');
    });

    it('ignores managed fields on PUT and PATCH', async () => {
      const created = await create();
      const put = await http(t)
        .put(`/input-docs/${created.id}`)
        .send({ ref: created.ref, owner: 'alice', title: 'put', id: 'other', version: 99, createdAt: '2000-01-01T00:00:00.000Z' });
      expect(put.status).toBe(200);
      expect(put.body).toEqual(expect.objectContaining({ id: created.id, version: 2, createdAt: created.createdAt, title: 'put' }));
      const patch = await http(t).patch(`/input-docs/${created.id}`).send({ title: 'patched', version: 1, updatedAt: '2000-01-01T00:00:00.000Z' });
      expect(patch.status).toBe(200);
      expect(patch.body).toEqual(expect.objectContaining({ id: created.id, version: 3, createdAt: created.createdAt, title: 'patched' }));
      expect(patch.body.updatedAt).not.toBe('2000-01-01T00:00:00.000Z');
      expectNestError(await http(t).get('/input-docs/other'), 404);
    });
  });

  describe('prototype keys', () => {
    it.each([
      ['__proto__ at the top level', '{"ref":"REF","owner":"alice","title":"t","__proto__":{"polluted":"yes"}}'],
      ['constructor at the top level', '{"ref":"REF","owner":"alice","title":"t","constructor":{"prototype":{"polluted":"yes"}}}'],
      ['a plain constructor key', '{"ref":"REF","owner":"alice","title":"t","constructor":"yes"}'],
      ['prototype at the top level', '{"ref":"REF","owner":"alice","title":"t","prototype":{"polluted":"yes"}}'],
      ['__proto__ nested', '{"ref":"REF","owner":"alice","title":"t","note":{"__proto__":{"polluted":"yes"}}}'],
      ['constructor nested', '{"ref":"REF","owner":"alice","title":"t","note":{"constructor":{"prototype":{"polluted":"yes"}}}}'],
      ['prototype nested deeply', '{"ref":"REF","owner":"alice","title":"t","note":{"a":[{"prototype":{"polluted":"yes"}}]}}'],
    ])('rejects %s on create with 400 and pollutes nothing', async (_label, raw) => {
      const ref = unique('ref');
      const response = await http(t).post('/input-docs').set('Content-Type', 'application/json').send(raw.replace('REF', ref));
      expectErrorStatus(response, 400);
      expectNotPolluted();
      expect(await refCount(ref)).toBe(0);
    });

    it('rejects __proto__ in a PATCH with 400 and changes nothing', async () => {
      const created = await create();
      const response = await http(t)
        .patch(`/input-docs/${created.id}`)
        .set('Content-Type', 'application/json')
        .send('{"title":"changed","__proto__":{"polluted":"yes"}}');
      expectErrorStatus(response, 400);
      expectNotPolluted();
      expect((await http(t).get(`/input-docs/${created.id}`)).body).toEqual(created);
    });

    it('rejects constructor.prototype in a PUT with 400 and changes nothing', async () => {
      const created = await create();
      const response = await http(t)
        .put(`/input-docs/${created.id}`)
        .set('Content-Type', 'application/json')
        .send(`{"ref":"${created.ref}","owner":"alice","title":"changed","constructor":{"prototype":{"polluted":"yes"}}}`);
      expectErrorStatus(response, 400);
      expectNotPolluted();
      expect((await http(t).get(`/input-docs/${created.id}`)).body).toEqual(created);
    });

    it('rejects __proto__ inside a batch element with 400 and stores nothing', async () => {
      const first = unique('ref');
      const second = unique('ref');
      const response = await http(t)
        .post('/input-docs/batch')
        .set('Content-Type', 'application/json')
        .send(`[{"ref":"${first}","owner":"a","title":"t"},{"ref":"${second}","owner":"a","title":"t","__proto__":{"polluted":"yes"}}]`);
      expectErrorStatus(response, 400);
      expectNotPolluted();
      expect(await refCount(first)).toBe(0);
      expect(await refCount(second)).toBe(0);
    });
  });

  describe('malformed and oversized bodies', () => {
    it('rejects malformed JSON with 400', async () => {
      const response = await http(t).post('/input-docs').set('Content-Type', 'application/json').send('{"ref": "x", "title": ');
      expectErrorStatus(response, 400);
    });

    it('rejects malformed JSON on PATCH with 400', async () => {
      const created = await create();
      const response = await http(t).patch(`/input-docs/${created.id}`).set('Content-Type', 'application/json').send('{title: nope}');
      expectErrorStatus(response, 400);
    });

    it('rejects a body that is not an object with 400', async () => {
      expectErrorStatus(await http(t).post('/input-docs').set('Content-Type', 'application/json').send('"just a string"'), 400);
      expectErrorStatus(await http(t).post('/input-docs').set('Content-Type', 'application/json').send('[1,2]'), 400);
    });

    it('rejects a body over 1 MiB with 413 and stores nothing', async () => {
      const body = doc({ note: 'x'.repeat(ONE_MIB + 1) });
      const response = await http(t).post('/input-docs').send(body);
      expectErrorStatus(response, 413);
      expect(await refCount(body.ref as string)).toBe(0);
    });

    it('rejects a PATCH body over 1 MiB with 413', async () => {
      const created = await create();
      const response = await http(t)
        .patch(`/input-docs/${created.id}`)
        .send({ note: 'x'.repeat(ONE_MIB + 1) });
      expectErrorStatus(response, 413);
      expect((await http(t).get(`/input-docs/${created.id}`)).body).toEqual(created);
    });

    it('accepts a body just under 1 MiB', async () => {
      const body = doc({ note: 'y'.repeat(ONE_MIB - 1024) });
      const response = await http(t).post('/input-docs').send(body);
      expect(response.status).toBe(201);
      expect(response.body.note).toHaveLength(ONE_MIB - 1024);
    });
  });

  // The platform's body parser answers these before any route, guard or interceptor of the
  // package runs; Fastify's answers carry no `error` field (see README, "Errors").
  describe('bodies the platform rejects before the package sees them', () => {
    it.each([
      ['malformed JSON', () => http(t).post('/input-docs').set('Content-Type', 'application/json').send('{"ref": "x", "title": '), 400],
      [
        'a __proto__ key',
        () => http(t).post('/input-docs').set('Content-Type', 'application/json').send('{"ref":"p","owner":"a","title":"t","__proto__":{"polluted":1}}'),
        400,
      ],
      [
        'a body over 1 MiB',
        () =>
          http(t)
            .post('/input-docs')
            .send(doc({ note: 'x'.repeat(ONE_MIB + 1) })),
        413,
      ],
    ] as [string, () => Promise<{ status: number; body: any; headers: any }>, number][])(
      'answers %s with its status and a message, polluting no prototype',
      async (_label, send, status) => {
        const response = await send();
        expect(response.status).toBe(status);
        expect(response.body).toEqual(expect.objectContaining({ statusCode: status, message: expect.any(String) }));
        expectNotPolluted();
      },
    );
  });

  describe('immutable fields', () => {
    it('rejects a PATCH that changes an immutable field with 400 naming it, and changes nothing', async () => {
      const created = await create({ owner: 'alice' });
      const response = await http(t).patch(`/input-docs/${created.id}`).send({ owner: 'bob', title: 'new' });
      expect(expectNestError(response, 400)).toContain('owner');
      expect((await http(t).get(`/input-docs/${created.id}`)).body).toEqual(created);
    });

    it('accepts a PATCH that repeats the immutable value', async () => {
      const created = await create({ owner: 'alice' });
      const response = await http(t).patch(`/input-docs/${created.id}`).send({ owner: 'alice', title: 'renamed' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(expect.objectContaining({ owner: 'alice', title: 'renamed', version: 2 }));
    });

    it('rejects a PUT that changes an immutable field with 400 naming it, and changes nothing', async () => {
      const created = await create({ owner: 'alice' });
      const response = await http(t).put(`/input-docs/${created.id}`).send({ ref: created.ref, owner: 'mallory', title: 'new' });
      expect(expectNestError(response, 400)).toContain('owner');
      expect((await http(t).get(`/input-docs/${created.id}`)).body).toEqual(created);
    });

    it('accepts a PUT that keeps the immutable value', async () => {
      const created = await create({ owner: 'alice' });
      const response = await http(t).put(`/input-docs/${created.id}`).send({ ref: created.ref, owner: 'alice', title: 'replaced' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(expect.objectContaining({ owner: 'alice', title: 'replaced', version: 2 }));
    });

    it('rejects a PATCH that clears an immutable field with 400', async () => {
      const created = await create({ owner: 'alice' });
      const response = await http(t).patch(`/input-docs/${created.id}`).send({ owner: null });
      expectNestError(response, 400);
      expect((await http(t).get(`/input-docs/${created.id}`)).body).toEqual(created);
    });
  });

  describe('If-Match', () => {
    it.each([
      ['a weak ETag', 'W/"1"', /weak ETag/],
      ['an empty ETag', '""', /If-Match is empty/],
      ['an empty header', '', /If-Match is empty/],
    ])('answers %s with 400 on PUT, PATCH and DELETE, and changes nothing', async (_label, header, message) => {
      const created = await create();
      const put = await http(t).put(`/input-docs/${created.id}`).set('If-Match', header).send({ ref: created.ref, owner: 'alice', title: 'put' });
      expect(expectNestError(put, 400)).toMatch(message);
      const patch = await http(t).patch(`/input-docs/${created.id}`).set('If-Match', header).send({ title: 'patched' });
      expect(expectNestError(patch, 400)).toMatch(message);
      expect(expectNestError(await http(t).delete(`/input-docs/${created.id}`).set('If-Match', header), 400)).toMatch(message);
      expect((await http(t).get(`/input-docs/${created.id}`)).body).toEqual(created);
    });

    it('answers a list of ETags with 400', async () => {
      const created = await create();
      expectNestError(await http(t).patch(`/input-docs/${created.id}`).set('If-Match', '"1", "2"').send({ title: 'patched' }), 400);
      expect((await http(t).get(`/input-docs/${created.id}`)).body).toEqual(created);
    });

    it('takes * as no version: the write goes through on the current record', async () => {
      const created = await create();
      const patch = await http(t).patch(`/input-docs/${created.id}`).set('If-Match', '*').send({ title: 'patched' });
      expect(patch.status).toBe(200);
      expect(patch.body).toEqual(expect.objectContaining({ title: 'patched', version: 2 }));
    });
  });

  describe('hidden fields', () => {
    it('stores a hidden field but leaves it out of the POST response', async () => {
      const secret = unique('secret');
      const created = await http(t).post('/input-docs').send(doc({ secret }));
      expect(created.status).toBe(201);
      expect(created.body).not.toHaveProperty('secret');
      expect(JSON.stringify(created.body)).not.toContain(secret);
      const stored = await repository.findById(created.body.id);
      expect(stored?.secret).toBe(secret);
    });

    it('never returns a hidden field from GET, list, batch, PUT or PATCH', async () => {
      const secret = unique('secret');
      const created = await create({ secret });
      const read = await http(t).get(`/input-docs/${created.id}`);
      expect(read.status).toBe(200);
      expect(read.body).not.toHaveProperty('secret');
      const list = await http(t).get('/input-docs?limit=1000');
      expect(list.status).toBe(200);
      expect(JSON.stringify(list.body)).not.toContain(secret);
      const batchSecret = unique('secret');
      const batch = await http(t)
        .post('/input-docs/batch')
        .send([doc({ secret: batchSecret })]);
      expect(batch.status).toBe(201);
      expect(batch.body[0]).not.toHaveProperty('secret');
      const patch = await http(t).patch(`/input-docs/${created.id}`).send({ title: 'still secret' });
      expect(patch.status).toBe(200);
      expect(patch.body).not.toHaveProperty('secret');
      const put = await http(t).put(`/input-docs/${created.id}`).send({ ref: created.ref, owner: 'alice', title: 'replaced', secret });
      expect(put.status).toBe(200);
      expect(put.body).not.toHaveProperty('secret');
      expect((await repository.findById(created.id))?.secret).toBe(secret);
    });

    it('lets a PATCH write a hidden field without returning it', async () => {
      const created = await create();
      const secret = unique('secret');
      const patch = await http(t).patch(`/input-docs/${created.id}`).send({ secret });
      expect(patch.status).toBe(200);
      expect(patch.body).not.toHaveProperty('secret');
      expect((await repository.findById(created.id))?.secret).toBe(secret);
    });

    it('refuses to filter or sort on a hidden field with 400', async () => {
      const secret = unique('secret');
      await create({ secret });
      expectNestError(await http(t).get(`/input-docs?secret=${secret}`), 400);
      expectNestError(await http(t).get(`/input-docs?secret[prefix]=${secret.slice(0, 3)}`), 400);
      expectNestError(await http(t).get('/input-docs?secret[ne]=x'), 400);
      expectNestError(await http(t).get('/input-docs?sort=secret'), 400);
      expectNestError(await http(t).get('/input-docs?sort=-secret'), 400);
    });
  });
});
