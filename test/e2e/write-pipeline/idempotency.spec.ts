import { Entity, Field, Index } from '../../../lib/index.js';
import { PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { api, listAll, messageOf, sleep, storageOf, withApp } from './write-pipeline.util.js';

@Entity({ name: 'wp-permits', path: 'permits' })
class Permit {
  @Field() @Index({ unique: true }) number!: string;
  @Field({ required: false }) note?: string;
}

describe.each(PLATFORMS)('Idempotency-Key on %s', (platform) => {
  const entities = [Permit];

  const post = (t: TestApp, key: string, body: object, user?: string) => {
    const call = api(t).post('/permits').set('Idempotency-Key', key);
    return (user ? call.set('X-User', user) : call).send(body);
  };

  it('answers a repeated POST with the first response and creates nothing new', async () => {
    await withApp(platform, entities, async (t) => {
      const first = await post(t, 'key-1', { number: 'P-1', note: 'n' }, 'alice');
      expect(first.status).toBe(201);
      const again = await post(t, 'key-1', { number: 'P-1', note: 'n' }, 'alice');

      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(await listAll(t, '/permits')).toHaveLength(1);
      const events = storageOf(t).events(0, 100);
      expect(events).toHaveLength(1);
      expect(events[0]).toEqual(expect.objectContaining({ id: first.body.id, type: 'created', idempotencyKey: 'key-1', actor: 'alice' }));
    });
  });

  it('treats the same body with its properties in another order as the same request', async () => {
    await withApp(platform, entities, async (t) => {
      const first = await post(t, 'key-1', { number: 'P-1', note: 'n' }).expect(201);
      const again = await post(t, 'key-1', { note: 'n', number: 'P-1' }).expect(201);
      expect(again.body.id).toBe(first.body.id);
      expect(await listAll(t, '/permits')).toHaveLength(1);
    });
  });

  it('answers 409 to the same key with another body and changes nothing', async () => {
    await withApp(platform, entities, async (t) => {
      const first = await post(t, 'key-1', { number: 'P-1' }).expect(201);
      const conflict = await post(t, 'key-1', { number: 'P-2' });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toEqual(expect.objectContaining({ statusCode: 409, error: 'Conflict' }));
      expect((await listAll(t, '/permits')).map((record) => record['id'])).toEqual([first.body.id]);
      expect(storageOf(t).events(0, 100)).toHaveLength(1);
    });
  });

  it('keeps the keys of two principals apart', async () => {
    await withApp(platform, entities, async (t) => {
      const alice = await post(t, 'shared-key', { number: 'P-1' }, 'alice').expect(201);
      const bob = await post(t, 'shared-key', { number: 'P-2' }, 'bob').expect(201);
      expect(bob.body.id).not.toBe(alice.body.id);

      expect((await post(t, 'shared-key', { number: 'P-2' }, 'bob').expect(201)).body.id).toBe(bob.body.id);
      await post(t, 'shared-key', { number: 'P-2' }, 'alice').expect(409);
      expect(await listAll(t, '/permits')).toHaveLength(2);
    });
  });

  it('treats an expired key as new', async () => {
    await withApp(
      platform,
      entities,
      async (t) => {
        const first = await post(t, 'key-1', { number: 'P-1' }).expect(201);
        await sleep(100);
        const second = await post(t, 'key-1', { number: 'P-2' }).expect(201);
        expect(second.body.id).not.toBe(first.body.id);
        expect(await listAll(t, '/permits')).toHaveLength(2);
        expect(await storageOf(t).runMaintenance(Date.now() + 1000)).toEqual({ idempotencyKeys: 1, events: 0 });
      },
      { idempotencyTtl: 50 },
    );
  });

  it('answers 400 to an Idempotency-Key longer than 255 characters and creates nothing', async () => {
    await withApp(platform, entities, async (t) => {
      const response = await post(t, 'k'.repeat(256), { number: 'P-1' });
      expect(response.status).toBe(400);
      expect(messageOf(response.body)).toMatch(/Idempotency-Key/);
      expect(await listAll(t, '/permits')).toEqual([]);
      expect(storageOf(t).events(0, 100)).toEqual([]);

      await post(t, 'k'.repeat(255), { number: 'P-1' }).expect(201);
    });
  });

  it('answers a repeated POST /P/batch with the first records and creates nothing new', async () => {
    await withApp(platform, entities, async (t) => {
      const body = [{ number: 'B-1' }, { number: 'B-2', note: 'x' }];
      const first = await api(t).post('/permits/batch').set('Idempotency-Key', 'batch-1').send(body).expect(201);
      const again = await api(t).post('/permits/batch').set('Idempotency-Key', 'batch-1').send(body).expect(201);

      expect(again.body).toEqual(first.body);
      expect(again.body.map((record: { id: string }) => record.id)).toEqual(first.body.map((record: { id: string }) => record.id));
      expect(await listAll(t, '/permits')).toHaveLength(2);
      expect(storageOf(t).events(0, 100)).toHaveLength(2);

      await api(t)
        .post('/permits/batch')
        .set('Idempotency-Key', 'batch-1')
        .send([{ number: 'B-3' }])
        .expect(409);
      expect(await listAll(t, '/permits')).toHaveLength(2);
    });
  });

  it('keeps the batch keys of two principals apart', async () => {
    await withApp(platform, entities, async (t) => {
      const batch = (user: string, body: object[]) => api(t).post('/permits/batch').set('Idempotency-Key', 'shared').set('X-User', user).send(body);
      const alice = await batch('alice', [{ number: 'A-1' }]).expect(201);
      const bob = await batch('bob', [{ number: 'B-1' }]);
      expect(bob.status).toBe(201);
      expect(bob.body.map((record: { number: string }) => record.number)).toEqual(['B-1']);
      expect(bob.body[0].id).not.toBe(alice.body[0].id);
      expect(await listAll(t, '/permits')).toHaveLength(2);
    });
  });

  it('answers 400 to a batch whose Idempotency-Key is longer than 255 characters', async () => {
    await withApp(platform, entities, async (t) => {
      await api(t)
        .post('/permits/batch')
        .set('Idempotency-Key', 'k'.repeat(256))
        .send([{ number: 'B-1' }])
        .expect(400);
      expect(await listAll(t, '/permits')).toEqual([]);
    });
  });

  it('creates a new record for every POST without a key', async () => {
    await withApp(platform, entities, async (t) => {
      await api(t).post('/permits').send({ number: 'P-1' }).expect(201);
      await api(t).post('/permits').send({ number: 'P-1' }).expect(409);
      await api(t).post('/permits').send({ number: 'P-2' }).expect(201);
      expect(await listAll(t, '/permits')).toHaveLength(2);
    });
  });
});
