import 'reflect-metadata';
import request from 'supertest';
import { Entity, EntityMetadataException, Field } from '../../../lib/index.js';
import { createTestApp } from '../../support/test-app.util.js';

@Entity('metrics')
class Metric {
  @Field() name!: string;
}

@Entity({ name: 'ops-stats', path: 'ops/stats' })
class OpsStat {
  @Field() name!: string;
}

async function startUpFailure(entities: Array<new () => object>, metrics: { enabled: true; path?: string | false }): Promise<unknown> {
  return createTestApp({ entities, module: { metrics } }).then(
    async (t) => {
      await t.close();
      return undefined;
    },
    (error: unknown) => error,
  );
}

/** The metrics route would answer an entity's list on the same path (or hide its routes under it). */
describe('an entity whose route path meets the metrics route', () => {
  it('fails start-up naming both when the paths are one', async () => {
    const failure = await startUpFailure([Metric], { enabled: true });
    expect(failure).toBeInstanceOf(EntityMetadataException);
    expect((failure as Error).message).toBe('Metric: route path "/metrics" is already used by the metrics route /metrics');
  });

  it('fails start-up when the metrics route lies under the entity path', async () => {
    const failure = await startUpFailure([OpsStat], { enabled: true, path: '/ops/stats/prometheus' });
    expect((failure as Error).message).toBe('OpsStat: route path "/ops/stats" holds the path of the metrics route /ops/stats/prometheus');
  });

  it('starts when metrics keep no route, or another one', async () => {
    expect(await startUpFailure([Metric], { enabled: true, path: false })).toBeUndefined();
    const t = await createTestApp({ entities: [Metric], module: { metrics: { enabled: true, path: '/prometheus' } } });
    try {
      await request(t.server()).post('/metrics').send({ name: 'n' }).expect(201);
      expect((await request(t.server()).get('/metrics').expect(200)).body.items).toEqual([expect.objectContaining({ name: 'n' })]);
    } finally {
      await t.close();
    }
  });
});
