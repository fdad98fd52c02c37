import { Audited, AuditService, Entity, Field, Historize, Index } from '../../../lib/index.js';
import { PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { api, listAll, messageOf, storageOf, withApp } from './write-pipeline.util.js';

@Entity({ name: 'wp-permits', path: 'permits' })
@Audited()
@Historize('full')
class Permit {
  @Field() @Index({ unique: true }) number!: string;
  @Field() county!: string;
}

describe.each(PLATFORMS)('POST /P/batch on %s', (platform) => {
  const entities = [Permit];

  async function expectNothingStored(t: TestApp): Promise<void> {
    expect(await listAll(t, '/permits')).toEqual([]);
    expect(storageOf(t).events(0, 100)).toEqual([]);
    expect((await t.app.get(AuditService).find({})).items).toEqual([]);
  }

  it('creates every element in order and answers 201 with the records', async () => {
    await withApp(platform, entities, async (t) => {
      const response = await api(t)
        .post('/permits/batch')
        .set('X-User', 'importer')
        .send([
          { number: 'A', county: 'x' },
          { number: 'B', county: 'y' },
        ])
        .expect(201);
      expect(response.body).toEqual([
        expect.objectContaining({ number: 'A', county: 'x', version: 1 }),
        expect.objectContaining({ number: 'B', county: 'y', version: 1 }),
      ]);
      expect(
        storageOf(t)
          .events(0, 100)
          .map(({ seq, id, actor }) => ({ seq, id, actor })),
      ).toEqual([
        { seq: 1, id: response.body[0].id, actor: 'importer' },
        { seq: 2, id: response.body[1].id, actor: 'importer' },
      ]);
    });
  });

  it('stores none when one element is invalid and names that element in the 400', async () => {
    await withApp(platform, entities, async (t) => {
      const response = await api(t)
        .post('/permits/batch')
        .send([{ number: 'A', county: 'x' }, { number: 'B', county: 'y' }, { number: 'C' }]);
      expect(response.status).toBe(400);
      const message = messageOf(response.body);
      expect(message).toMatch(/\[2\]/);
      expect(message).toMatch(/county/);
      expect(message).not.toMatch(/\[0\]|\[1\]/);
      await expectNothingStored(t);
    });
  });

  it('stores none when one element has an unknown property', async () => {
    await withApp(platform, entities, async (t) => {
      const response = await api(t)
        .post('/permits/batch')
        .send([
          { number: 'A', county: 'x', colour: 'red' },
          { number: 'B', county: 'y' },
        ]);
      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toMatch(/\[0\].*colour/);
      await expectNothingStored(t);
    });
  });

  it('stores none and answers 409 when two elements share a unique value', async () => {
    await withApp(platform, entities, async (t) => {
      await api(t)
        .post('/permits/batch')
        .send([
          { number: 'A', county: 'x' },
          { number: 'A', county: 'y' },
        ])
        .expect(409);
      expect(await listAll(t, '/permits')).toEqual([]);
      expect(storageOf(t).events(0, 100)).toEqual([]);
    });
  });

  it('answers 400 to more elements than maxBatchSize and stores none', async () => {
    await withApp(
      platform,
      entities,
      async (t) => {
        const items = ['A', 'B', 'C', 'D'].map((number) => ({ number, county: 'x' }));
        const response = await api(t).post('/permits/batch').send(items);
        expect(response.status).toBe(400);
        expect(messageOf(response.body)).toMatch(/3/);
        await expectNothingStored(t);

        await api(t).post('/permits/batch').send(items.slice(0, 3)).expect(201);
        expect(await listAll(t, '/permits')).toHaveLength(3);
      },
      { maxBatchSize: 3 },
    );
  });

  it('answers 400 to a body that is not an array, and to an empty array', async () => {
    await withApp(platform, entities, async (t) => {
      await api(t).post('/permits/batch').send({ number: 'A', county: 'x' }).expect(400);
      await api(t).post('/permits/batch').send([]).expect(400);
      await expectNothingStored(t);
    });
  });
});
