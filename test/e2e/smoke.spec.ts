import request from 'supertest';
import { Entity, Field } from '../../lib/index.js';
import { createTestApp, PLATFORMS } from '../support/test-app.util.js';

@Entity('notes')
class Note {
  @Field() text!: string;
}

describe.each(PLATFORMS)('test app helper on %s', (platform) => {
  it('boots an app that creates and reads a record', async () => {
    const t = await createTestApp({ entities: [Note], platform });
    try {
      const created = await request(t.server()).post('/notes').send({ text: 'hi' }).expect(201);
      await request(t.server()).get(`/notes/${created.body.id}`).expect(200).expect('ETag', '"1"');
    } finally {
      await t.close();
    }
  });
});
