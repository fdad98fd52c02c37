import { jest } from '@jest/globals';
import { Entity, Field, Permission, type Principal } from '../../../lib/index.js';
import { EntityAccess } from '../../../lib/permission/entity-access.service.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';
import { http, principalFromHeader, unique } from '../support/e2e.util.js';
import { as } from './access.util.js';

@Entity('ledgers')
@Permission({ read: 'ledgers:read', create: 'ledgers:create', update: 'ledgers:update', delete: 'ledgers:delete', owner: 'ownerId' })
class Ledger {
  @Field() title!: string;
  @Field({ required: false })
  @Permission({ read: 'ledgers:secret' })
  note?: string;
  @Field({ required: false }) ownerId?: string;
}

const CLERK: Principal = { id: 'clerk', permissions: ['ledgers:read', 'ledgers:create', 'ledgers:update', 'ledgers:delete'] };

/** A generated route decides access once and hands that decision to the repository, which applies it rather than deciding again. */
describe('one access decision per request', () => {
  let t: TestApp;
  let decide: ReturnType<typeof jest.spyOn>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Ledger], module: { getPrincipal: principalFromHeader } });
    decide = jest.spyOn(t.app.get(EntityAccess), 'decide');
  });

  afterAll(async () => {
    decide?.mockRestore();
    await t?.close();
  });

  async function decisionsOf(send: () => PromiseLike<{ status: number }>, status: number): Promise<number> {
    decide.mockClear();
    expect((await send()).status).toBe(status);
    return decide.mock.calls.length;
  }

  it('on every entity route, for a principal with entity-wide rights and for an owner', async () => {
    const created = await http(t)
      .post('/ledgers')
      .set(as(CLERK))
      .send({ title: unique('t'), note: 'n' });
    const id = (created.body as { id: string }).id;
    const owner: Principal = { id: unique('owner'), permissions: ['ledgers:create'] };
    const owned = (
      await http(t)
        .post('/ledgers')
        .set(as(owner))
        .send({ title: unique('t') })
    ).body as { id: string };

    expect(
      await decisionsOf(
        () =>
          http(t)
            .post('/ledgers')
            .set(as(CLERK))
            .send({ title: unique('t') }),
        201,
      ),
    ).toBe(1);
    expect(
      await decisionsOf(
        () =>
          http(t)
            .post('/ledgers/batch')
            .set(as(CLERK))
            .send([{ title: unique('a') }, { title: unique('b') }]),
        201,
      ),
    ).toBe(1);
    expect(await decisionsOf(() => http(t).get('/ledgers').set(as(CLERK)), 200)).toBe(1);
    expect(await decisionsOf(() => http(t).get(`/ledgers/${id}`).set(as(CLERK)), 200)).toBe(1);
    expect(
      await decisionsOf(
        () =>
          http(t)
            .patch(`/ledgers/${id}`)
            .set(as(CLERK))
            .send({ title: unique('t') }),
        200,
      ),
    ).toBe(1);
    expect(
      await decisionsOf(
        () =>
          http(t)
            .put(`/ledgers/${id}`)
            .set(as(CLERK))
            .send({ title: unique('t') }),
        200,
      ),
    ).toBe(1);
    expect(await decisionsOf(() => http(t).get(`/ledgers/${id}/history`).set(as(CLERK)), 200)).toBe(1);
    expect(await decisionsOf(() => http(t).get(`/ledgers/${owned.id}`).set(as(owner)), 200)).toBe(1);
    expect(
      await decisionsOf(
        () =>
          http(t)
            .patch(`/ledgers/${owned.id}`)
            .set(as(owner))
            .send({ title: unique('t') }),
        200,
      ),
    ).toBe(1);
    expect(await decisionsOf(() => http(t).delete(`/ledgers/${id}`).set(as(CLERK)), 204)).toBe(1);
  });

  it('and the fields the principal may not read are still left out of what it gets', async () => {
    const created = (
      await http(t)
        .post('/ledgers')
        .set(as(CLERK))
        .send({ title: unique('t'), note: 'secret' })
    ).body as Record<string, unknown>;
    expect(created).not.toHaveProperty('note');
    const read = (
      await http(t)
        .get(`/ledgers/${created.id as string}`)
        .set(as(CLERK))
    ).body as Record<string, unknown>;
    expect(read).not.toHaveProperty('note');
    const page = (await http(t).get('/ledgers').set(as(CLERK))).body as { items: Record<string, unknown>[] };
    expect(page.items.every((item) => !('note' in item))).toBe(true);
  });
});
