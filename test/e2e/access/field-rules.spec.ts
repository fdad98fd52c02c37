import { Audited, Entity, EntityRepository, Field, getRepositoryToken, Historize, Index, Permission, type Principal } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { expectNestError, http, principalFromHeader, unique } from '../support/e2e.util.js';
import { as, decodedCursor, walkAs } from './access.util.js';

@Entity('docs')
@Permission({ read: 'docs:read', create: 'docs:create', update: 'docs:update' })
@Historize('full')
@Audited()
class FieldDoc {
  @Field() title!: string;
  @Field() tag!: string;
  /** Read rule only: anyone may write it, only holders of docs:secret see it. */
  @Field({ required: false })
  @Index()
  @Permission({ read: 'docs:secret' })
  secret?: string;
  /** Write rule only: everyone sees it, only holders of docs:admin set it. */
  @Field({ required: false })
  @Permission({ write: 'docs:admin' })
  stamp?: string;
  /** Hidden: written by anyone, never answered. */
  @Field({ required: false, hidden: true }) memo?: string;
}

const PLAIN: Principal = { id: 'plain', permissions: ['docs:read', 'docs:create', 'docs:update'] };
const CLEARED: Principal = { id: 'cleared', permissions: ['docs:read', 'docs:create', 'docs:update', 'docs:secret'] };
const ADMIN: Principal = { id: 'admin', permissions: ['docs:read', 'docs:create', 'docs:update', 'docs:admin'] };

describe.each(PLATFORMS)('field-level @Permission on %s', (platform) => {
  let t: TestApp;
  let repo: EntityRepository<FieldDoc>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [FieldDoc], platform, module: { getPrincipal: principalFromHeader } });
    repo = t.app.get(getRepositoryToken(FieldDoc));
  });

  afterAll(async () => {
    await t?.close();
  });

  /** A record with a secret, written by a trusted call; its id, tag and secret. */
  async function seed(): Promise<{ id: string; tag: string; secret: string }> {
    const tag = unique('tag');
    const secret = unique('classified');
    const record = await repo.create({ title: 'seed', tag, secret, stamp: 'approved' });
    return { id: record.id, tag, secret };
  }

  describe('a field with a read rule', () => {
    it('is left out of GET /docs/:id for a principal lacking the permission, and shown to one holding it', async () => {
      const { id, secret } = await seed();
      const plain = await http(t).get(`/docs/${id}`).set(as(PLAIN));
      expect(plain.status).toBe(200);
      expect(plain.body).toEqual(expect.objectContaining({ id, title: 'seed', stamp: 'approved' }));
      expect(plain.body).not.toHaveProperty('secret');
      const cleared = await http(t).get(`/docs/${id}`).set(as(CLEARED));
      expect(cleared.body.secret).toBe(secret);
    });

    it('is left out of every list item for a principal lacking the permission', async () => {
      const first = await seed();
      await repo.create({ title: 'second', tag: first.tag, secret: 'other-secret' });
      const plain = await http(t).get(`/docs?tag=${first.tag}`).set(as(PLAIN));
      expect(plain.status).toBe(200);
      expect(plain.body.items).toHaveLength(2);
      for (const item of plain.body.items) expect(item).not.toHaveProperty('secret');
      const cleared = await http(t).get(`/docs?tag=${first.tag}`).set(as(CLEARED));
      expect(cleared.body.items.map((item: FieldDoc) => item.secret)).toEqual([first.secret, 'other-secret']);
    });

    it('is left out of the POST, PUT and PATCH responses, while the value written is stored', async () => {
      const tag = unique('tag');
      const created = await http(t).post('/docs').set(as(PLAIN)).send({ title: 'mine', tag, secret: 'written-blind' });
      expect(created.status).toBe(201);
      expect(created.body).not.toHaveProperty('secret');
      const id = created.body.id as string;
      expect((await repo.findById(id))?.secret).toBe('written-blind');

      const replaced = await http(t).put(`/docs/${id}`).set(as(PLAIN)).send({ title: 'replaced', tag, secret: 'replaced-blind' });
      expect(replaced.status).toBe(200);
      expect(replaced.body).not.toHaveProperty('secret');

      const patched = await http(t).patch(`/docs/${id}`).set(as(PLAIN)).send({ title: 'patched' });
      expect(patched.status).toBe(200);
      expect(patched.body).toEqual(expect.objectContaining({ id, title: 'patched', version: 3 }));
      expect(patched.body).not.toHaveProperty('secret');
      expect((await repo.findById(id))?.secret).toBe('replaced-blind');

      const clearedView = await http(t).patch(`/docs/${id}`).set(as(CLEARED)).send({ title: 'seen' });
      expect(clearedView.body.secret).toBe('replaced-blind');
    });

    it('keeps its stored value through a PUT that leaves it out, from a principal that cannot read it, as it keeps a hidden one', async () => {
      const tag = unique('tag');
      const record = await repo.create({ title: 'kept', tag, secret: 'unseen', memo: 'hidden note' });
      await http(t).put(`/docs/${record.id}`).set(as(PLAIN)).send({ title: 'replaced', tag }).expect(200);
      expect(await repo.findById(record.id)).toEqual(expect.objectContaining({ title: 'replaced', secret: 'unseen', memo: 'hidden note', version: 2 }));
      // A principal that reads the field sent it back, or meant to leave it out; no one reads the hidden one.
      await http(t).put(`/docs/${record.id}`).set(as(CLEARED)).send({ title: 'replaced again', tag }).expect(200);
      const again = await repo.findById(record.id);
      expect(again).toEqual(expect.objectContaining({ memo: 'hidden note', version: 3 }));
      expect(again).not.toHaveProperty('secret');
      await http(t).put(`/docs/${record.id}`).set(as(PLAIN)).send({ title: 'new values', tag, secret: 'rewritten', memo: 'new note' }).expect(200);
      expect(await repo.findById(record.id)).toEqual(expect.objectContaining({ secret: 'rewritten', memo: 'new note', version: 4 }));
      const nulled = await http(t).put(`/docs/${record.id}`).set(as(PLAIN)).send({ title: 'new values', tag, secret: 'rewritten', memo: null });
      expect([nulled.status, await repo.findById(record.id)]).toEqual([200, expect.not.objectContaining({ memo: expect.anything() })]);
      // Trusted code replaces exactly what it names.
      await repo.replace(record.id, { title: 'trusted', tag });
      const trusted = await repo.findById(record.id);
      expect(trusted).toEqual(expect.objectContaining({ title: 'trusted', version: 6 }));
      expect(trusted).not.toHaveProperty('secret');
      expect(trusted).not.toHaveProperty('memo');
      // A revert writes the values of its version, those the caller cannot see included: back to 4, then to 6, where they were not set.
      await http(t).post(`/docs/${record.id}/revert`).set(as(PLAIN)).send({ toVersion: 4 }).expect(200);
      expect(await repo.findById(record.id)).toEqual(expect.objectContaining({ secret: 'rewritten', memo: 'new note', version: 7 }));
      await http(t).post(`/docs/${record.id}/revert`).set(as(PLAIN)).send({ toVersion: 6 }).expect(200);
      const reverted = await repo.findById(record.id);
      expect(reverted).toEqual(expect.objectContaining({ title: 'trusted', version: 8 }));
      expect(reverted).not.toHaveProperty('secret');
      expect(reverted).not.toHaveProperty('memo');
    });

    it('is left out of every element of a POST /docs/batch response', async () => {
      const tag = unique('tag');
      const response = await http(t)
        .post('/docs/batch')
        .set(as(PLAIN))
        .send([
          { title: 'a', tag, secret: 's-a' },
          { title: 'b', tag, secret: 's-b' },
        ]);
      expect(response.status).toBe(201);
      expect(response.body).toHaveLength(2);
      for (const record of response.body) {
        expect(record).toEqual(expect.objectContaining({ tag }));
        expect(record).not.toHaveProperty('secret');
      }
    });

    it('is left out of GET /docs/:id/history for a principal lacking the permission', async () => {
      const { id, secret } = await seed();
      await repo.update(id, { secret: `${secret}-v2`, title: 'v2' });
      const plain = await http(t).get(`/docs/${id}/history`).set(as(PLAIN));
      expect(plain.status).toBe(200);
      expect(Object.keys(plain.body.fields)).toContain('title');
      expect(plain.body.fields).not.toHaveProperty('secret');
      expect(JSON.stringify(plain.body)).not.toContain(secret);
      const cleared = await http(t).get(`/docs/${id}/history`).set(as(CLEARED));
      expect(cleared.body.fields.secret.map((entry: { value: string }) => entry.value)).toEqual([`${secret}-v2`, secret]);
    });

    it('is left out of the changes of GET /docs/:id/audit for a principal lacking the permission', async () => {
      const { id, secret } = await seed();
      await repo.update(id, { secret: `${secret}-v2`, title: 'v2' });
      const plain = await http(t).get(`/docs/${id}/audit`).set(as(PLAIN));
      expect(plain.status).toBe(200);
      expect(plain.body.items.map((entry: { action: string }) => entry.action)).toEqual(['create', 'update']);
      for (const entry of plain.body.items) expect(entry.changes).not.toHaveProperty('secret');
      expect(plain.body.items[1].changes).toEqual({ title: { from: 'seed', to: 'v2' } });
      expect(JSON.stringify(plain.body)).not.toContain(secret);
      const cleared = await http(t).get(`/docs/${id}/audit`).set(as(CLEARED));
      expect(cleared.body.items[1].changes.secret).toEqual({ from: secret, to: `${secret}-v2` });
    });

    it.each([
      ['an equality filter', 'secret=guess'],
      ['a prefix filter', 'secret[prefix]=g'],
      ['a range filter', 'secret[gt]=a'],
      ['an in filter', 'secret[in]=a,b'],
      ['a not-equal filter', 'secret[ne]=x'],
      ['an ascending sort', 'sort=secret'],
      ['a descending sort', 'sort=-secret'],
    ])('refuses %s on it with 403 to a principal lacking the permission, not to one holding it', async (_what, query) => {
      const { tag } = await seed();
      expectNestError(await http(t).get(`/docs?tag=${tag}&${query}`).set(as(PLAIN)), 403);
      expect((await http(t).get(`/docs?tag=${tag}&${query}`).set(as(CLEARED))).status).toBe(200);
    });

    it('answers a PATCH guessing its value the same whether the guess is right or wrong', async () => {
      const { id, secret } = await seed();
      const right = await http(t).patch(`/docs/${id}`).set(as(PLAIN)).send({ secret });
      const wrong = await http(t)
        .patch(`/docs/${id}`)
        .set(as(PLAIN))
        .send({ secret: `${secret}-not` });
      expect([right.status, wrong.status]).toEqual([200, 200]);
      // Both moved the version: an unchanged version would have confirmed the guess.
      expect([right.body.version, wrong.body.version]).toEqual([2, 3]);
    });

    it('never puts the sort value into a list cursor in clear text', async () => {
      const tag = unique('tag');
      const secrets = ['alpha', 'bravo', 'charlie', 'delta', 'echo'].map((word) => unique(`${word}-secret`));
      for (const secret of secrets) await repo.create({ title: 'page', tag, secret });
      for (const sort of ['secret', '-secret']) {
        const walk = await walkAs(t, '/docs', as(CLEARED), { tag, sort, limit: '2' });
        expect(walk.items.map((item) => item.secret)).toEqual(sort === 'secret' ? [...secrets].sort() : [...secrets].sort().reverse());
        expect(walk.cursors).toHaveLength(2);
        for (const cursor of walk.cursors) {
          for (const reading of decodedCursor(cursor)) {
            for (const secret of secrets) expect(reading).not.toContain(secret);
          }
        }
      }
    });
  });

  describe('a field with a write rule', () => {
    it('refuses a POST that sets it with 403 and creates nothing', async () => {
      const tag = unique('tag');
      expectNestError(await http(t).post('/docs').set(as(PLAIN)).send({ title: 'x', tag, stamp: 'forged' }), 403);
      expectNestError(
        await http(t)
          .post('/docs/batch')
          .set(as(PLAIN))
          .send([
            { title: 'ok', tag },
            { title: 'x', tag, stamp: 'forged' },
          ]),
        403,
      );
      expect((await repo.find({ where: { tag } })).items).toEqual([]);
    });

    it('refuses a PATCH or PUT that sets it with 403 and changes nothing', async () => {
      const { id, tag } = await seed();
      expectNestError(await http(t).patch(`/docs/${id}`).set(as(PLAIN)).send({ stamp: 'forged' }), 403);
      expectNestError(await http(t).patch(`/docs/${id}`).set(as(PLAIN)).send({ title: 'both', stamp: 'forged' }), 403);
      expectNestError(await http(t).put(`/docs/${id}`).set(as(PLAIN)).send({ title: 'replaced', tag, stamp: 'forged' }), 403);
      expect(await repo.findById(id)).toEqual(expect.objectContaining({ version: 1, title: 'seed', stamp: 'approved' }));
    });

    it('keeps its stored value when a principal lacking the permission replaces the record', async () => {
      const { id, tag } = await seed();
      const response = await http(t).put(`/docs/${id}`).set(as(PLAIN)).send({ title: 'replaced', tag });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(expect.objectContaining({ title: 'replaced', stamp: 'approved', version: 2 }));
      expect(await repo.findById(id)).toEqual(expect.objectContaining({ title: 'replaced', stamp: 'approved' }));
    });

    it('takes a repository call naming it with undefined as one that leaves it out', async () => {
      const { id } = await seed();
      const form: { stamp?: string } = {};
      await expect(repo.update(id, { title: 'given', stamp: form.stamp }, { principal: PLAIN })).resolves.toEqual(expect.objectContaining({ title: 'given' }));
      expect(await repo.findById(id)).toEqual(expect.objectContaining({ title: 'given', stamp: 'approved', version: 2 }));
    });

    it('lets a principal holding the permission set it', async () => {
      const tag = unique('tag');
      const created = await http(t).post('/docs').set(as(ADMIN)).send({ title: 'x', tag, stamp: 'set' });
      expect(created.status).toBe(201);
      expect(created.body.stamp).toBe('set');
      const patched = await http(t).patch(`/docs/${created.body.id}`).set(as(ADMIN)).send({ stamp: 'changed' });
      expect(patched.status).toBe(200);
      expect(patched.body.stamp).toBe('changed');
      const replaced = await http(t).put(`/docs/${created.body.id}`).set(as(ADMIN)).send({ title: 'x', tag });
      expect(replaced.status).toBe(200);
      expect(replaced.body).not.toHaveProperty('stamp');
    });
  });
});
