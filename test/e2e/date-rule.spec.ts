import { Entity, EntityRepository, Field, getRepositoryToken, Index, InvalidQueryException } from '../../lib/index.js';
import { createTestApp, type TestApp } from '../support/test-app.util.js';
import { expectNestError, http, unique } from './support/e2e.util.js';

@Entity('appointments')
class Appointment {
  @Field() ref!: string;

  @Field({ type: 'date' })
  @Index()
  when!: Date;
}

/** One date rule: the body check, the store, list filters and `find` accept and refuse the same values. */
describe('the date rule, over HTTP and in code', () => {
  let t: TestApp;
  let repository: EntityRepository<Appointment>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Appointment] });
    repository = t.app.get(getRepositoryToken(Appointment));
  });

  afterAll(async () => {
    await t?.close();
  });

  it.each(['2024', '2024-01', '2024-01-01 10:00', 'Jan 1 2024', '2024-02-30', '2024-01-01T24:00', '10000-01-01'])(
    'refuses %j in a body with 400 naming the field',
    async (when) => {
      const response = await http(t)
        .post('/appointments')
        .send({ ref: unique('r'), when });
      expect(expectNestError(response, 400)).toContain('when must be an ISO 8601 date string');
    },
  );

  it.each([
    ['0050-06-15', '0050-06-15T00:00:00.000Z'],
    ['2024-01-01T10:00', '2024-01-01T10:00:00.000Z'],
    ['2024-01-01T10:00:00+02:00', '2024-01-01T08:00:00.000Z'],
  ])('stores %j as %j', async (when, stored) => {
    const response = await http(t)
      .post('/appointments')
      .send({ ref: unique('r'), when });
    expect(response.status).toBe(201);
    expect(response.body.when).toBe(stored);
  });

  it('reads a filter value by the same rule: no offset means UTC, anything else is refused', async () => {
    const ref = unique('r');
    await http(t).post('/appointments').send({ ref, when: '2031-05-05T05:05:00Z' }).expect(201);
    const found = await http(t).get('/appointments').query({ ref, 'when[gte]': '2031-05-05T05:05' });
    expect(found.status).toBe(200);
    expect(found.body.items).toHaveLength(1);
    expectNestError(await http(t).get('/appointments').query({ when: '2031-05-05 05:05' }), 400);
    await expect(repository.find({ where: { when: 'Jan 1 2024' } })).rejects.toBeInstanceOf(InvalidQueryException);
    await expect(repository.find({ where: { when: { gte: '2031-05-05T05:05' } } })).resolves.toMatchObject({ items: expect.any(Array) });
  });
});
