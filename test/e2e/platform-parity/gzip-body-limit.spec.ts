import { gzipSync } from 'node:zlib';
import { Entity, EntityRepository, Field, getRepositoryToken } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { portOf, rawRequest } from './raw-http.util.js';

@Entity('gzip-notes')
class Note {
  @Field() text!: string;
}

/**
 * README: "bodies larger than `maxBodyBytes` get 413". `checkRequestBody` trusts `Content-Length`
 * when there is one, but Express's body parser inflates `Content-Encoding: gzip` bodies, so a
 * 53-byte gzip body that inflates to 5 kB passes a `maxBodyBytes` of 1000 and is stored (201),
 * while the same JSON sent plain gets 413. (Fastify does not inflate and answers 400.)
 */
describe.each(PLATFORMS)('maxBodyBytes with a compressed body on %s', (platform) => {
  let t: TestApp;
  let notes: EntityRepository<Note>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Note], platform, module: { maxBodyBytes: 1000 } });
    notes = t.app.get(getRepositoryToken(Note));
  });

  afterAll(async () => {
    await t?.close();
  });

  it('never stores a body larger than maxBodyBytes, however it was encoded', async () => {
    const json = Buffer.from(JSON.stringify({ text: 'x'.repeat(5000) }));
    const port = await portOf(t);
    const plain = await rawRequest(port, 'POST', '/gzip-notes', { 'content-type': 'application/json', 'content-length': String(json.length) }, json);
    expect(plain.status).toBe(413);
    const zipped = gzipSync(json);
    const compressed = await rawRequest(
      port,
      'POST',
      '/gzip-notes',
      { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(zipped.length) },
      zipped,
    );
    expect(compressed.status).not.toBe(201);
    expect([400, 413, 415]).toContain(compressed.status);
    expect((await notes.find({})).items).toEqual([]);
  });
});
