import request from 'supertest';
import { Entity, Field } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { portOf, rawRequest } from './raw-http.util.js';

// The path must not contain the letters "include": includeOf's shortcut looks at the whole URL.
@Entity('pct-items')
class Item {
  @Field() tag!: string;
}

/**
 * `include=nope` names no reference and gets 400. Spelled `%69nclude=nope` it is the same
 * parameter once decoded (as `parseListQuery` and `pastPointQuery` decode it, and skip it as
 * "include"), but `includeOf` first looks for the bytes `include` in the raw URL, finds none, and
 * the request is answered 200 as if the parameter were absent, which the README says never happens.
 */
describe.each(PLATFORMS)('a percent-encoded include parameter on %s', (platform) => {
  let t: TestApp;
  let id: string;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Item], platform });
    id = (await request(t.server()).post('/pct-items').send({ tag: 'a' })).body.id;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('is read as include, as its plain spelling is', async () => {
    const port = await portOf(t);
    expect((await rawRequest(port, 'GET', '/pct-items?include=nope', {})).status).toBe(400);
    expect((await rawRequest(port, 'GET', '/pct-items?%69nclude=nope', {})).status).toBe(400);
    expect((await rawRequest(port, 'GET', `/pct-items/${id}?include=nope`, {})).status).toBe(400);
    expect((await rawRequest(port, 'GET', `/pct-items/${id}?%69nclude=nope`, {})).status).toBe(400);
  });
});
