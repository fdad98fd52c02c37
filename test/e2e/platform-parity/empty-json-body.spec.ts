import { Entity, EntityRepository, Field, getRepositoryToken } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { portOf, rawRequest } from './raw-http.util.js';

@Entity({ name: 'empty-body-notes', softDelete: true })
class Note {
  @Field() title!: string;
}

/**
 * `Content-Type: application/json` with `Content-Length: 0` is no JSON. Fastify refuses it with 400
 * before the route; on Express the body parser turns it into `{}`, so a PATCH answers 200 and
 * `POST /P/:id/restore` (whose body the README says is `{}`) restores the record. The same
 * request must get the same answer on both platforms.
 */
describe.each(PLATFORMS)('an empty body sent as JSON on %s', (platform) => {
  let t: TestApp;
  let notes: EntityRepository<Note>;
  const empty = { 'content-type': 'application/json', 'content-length': '0' };

  beforeAll(async () => {
    t = await createTestApp({ entities: [Note], platform });
    notes = t.app.get(getRepositoryToken(Note));
  });

  afterAll(async () => {
    await t?.close();
  });

  it('is refused with 400 by PATCH', async () => {
    const note = await notes.create({ title: 'seed' });
    const response = await rawRequest(await portOf(t), 'PATCH', `/empty-body-notes/${note.id}`, empty);
    expect(response.status).toBe(400);
  });

  it('is refused with 400 by restore, which leaves the record deleted', async () => {
    const note = await notes.create({ title: 'seed' });
    await notes.delete(note.id);
    const response = await rawRequest(await portOf(t), 'POST', `/empty-body-notes/${note.id}/restore`, empty);
    expect(response.status).toBe(400);
    expect(await notes.findById(note.id)).toBeNull();
  });
});
