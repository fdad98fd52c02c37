import { createCache } from 'cache-manager';
import { Cached, Entity, Field, Historize } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';
import { http } from '../support/e2e.util.js';

@Entity('redeploy-people')
@Cached()
class PersonV1 {
  @Field() name!: string;
  @Field() ssn!: string;
}

@Entity('redeploy-people')
@Cached()
class PersonV2 {
  @Field() name!: string;
  @Field({ hidden: true }) ssn!: string;
}

@Entity('redeploy-cases')
@Cached()
class CaseV1 {
  @Field() @Historize('full') status!: string;
}

@Entity('redeploy-cases')
@Cached()
class CaseV2 {
  @Field() @Historize({ versions: 1 }) status!: string;
}

/**
 * A deploy that changes an entity, with the cache outliving it (a shared Redis does; here one
 * cache-manager instance handed to the app before and the app after).
 */
describe('a cache shared across a deploy that changes the entity', () => {
  const data = makeTempDir();
  const manager = createCache();
  const start = (entity: Function) => createTestApp({ entities: [entity as never], path: data.path, module: { cache: { manager } } });
  let running: TestApp | undefined;

  afterEach(async () => {
    await running?.close();
    running = undefined;
  });
  afterAll(() => data.remove());

  it('never answers a field the new version declares hidden', async () => {
    running = await start(PersonV1);
    const { body } = await http(running).post('/redeploy-people').send({ name: 'Ann', ssn: '123-45-6789' }).expect(201);
    expect((await http(running).get(`/redeploy-people/${body.id}`).expect(200)).body.ssn).toBe('123-45-6789');
    expect((await http(running).get('/redeploy-people').expect(200)).body.items[0].ssn).toBe('123-45-6789');
    await running.close();

    running = await start(PersonV2);
    expect((await http(running).get(`/redeploy-people/${body.id}`).expect(200)).body).not.toHaveProperty('ssn');
    expect((await http(running).get('/redeploy-people').expect(200)).body.items[0]).not.toHaveProperty('ssn');
  });

  it('never answers history that the start-up trimmed to a narrowed @Historize policy', async () => {
    running = await start(CaseV1);
    const { body } = await http(running).post('/redeploy-cases').send({ status: 'open' }).expect(201);
    await http(running).patch(`/redeploy-cases/${body.id}`).send({ status: 'closed' }).expect(200);
    const values = (answer: { body: { fields: { status: Array<{ value: string }> } } }) => answer.body.fields.status.map((entry) => entry.value);
    expect(values(await http(running).get(`/redeploy-cases/${body.id}/history`).expect(200))).toEqual(['closed', 'open']);
    await running.close();

    running = await start(CaseV2);
    expect(values(await http(running).get(`/redeploy-cases/${body.id}/history`).expect(200))).toEqual(['closed']);
  });
});
