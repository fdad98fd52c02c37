import { Entity, EntityRepository, Field, getRepositoryToken } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { portOf, rawRequest } from './raw-http.util.js';

@Entity('charset-notes')
class Note {
  @Field() title!: string;
}

/**
 * A JSON body that says it is ISO-8859-1 and is: `{"title":"café"}` with é as the single byte 0xE9.
 * Express refuses the charset (415); Fastify ignores the parameter, decodes the bytes as UTF-8 and
 * stores "caf\uFFFD" with 201. The same request must get the same answer on both, and a body must
 * never be stored other than the client wrote it.
 */
describe.each(PLATFORMS)('a JSON body in a charset other than UTF-8 on %s', (platform) => {
  let t: TestApp;
  let notes: EntityRepository<Note>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Note], platform });
    notes = t.app.get(getRepositoryToken(Note));
  });

  afterAll(async () => {
    await t?.close();
  });

  it('is refused with 415 and stores nothing, rather than stored mis-decoded', async () => {
    const body = Buffer.concat([Buffer.from('{"title":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    const response = await rawRequest(
      await portOf(t),
      'POST',
      '/charset-notes',
      {
        'content-type': 'application/json; charset=iso-8859-1',
        'content-length': String(body.length),
      },
      body,
    );
    expect(response.status).toBe(415);
    expect((await notes.find({})).items).toEqual([]);
  });
});
