import { Entity, Field } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { http } from '../support/e2e.util.js';

/**
 * RFC 9110 13.1.2: a write whose `If-None-Match` names the record's current ETag (or is `*`,
 * the record existing) fails with 412 and changes nothing; tags are compared weakly.
 */
@Entity({ name: 'inm-notes', softDelete: true })
class Note {
  @Field() title!: string;
}

describe.each(PLATFORMS)('If-None-Match on writes, %s', (platform) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ entities: [Note], platform });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function note(): Promise<string> {
    return (await http(t).post('/inm-notes').send({ title: 'first' })).body.id as string;
  }

  it('refuses a PUT with If-None-Match: * on an existing record, and keeps the record', async () => {
    const id = await note();
    const put = await http(t).put(`/inm-notes/${id}`).set('If-None-Match', '*').send({ title: 'overwritten' });
    expect(put.status).toBe(412);
    expect(put.body.message).toBe('the record is at version 1, which If-None-Match names');
    expect((await http(t).get(`/inm-notes/${id}`)).body).toMatchObject({ title: 'first', version: 1 });
  });

  it.each(['"1"', 'W/"1"', '"7", "1"', 'W/"3",W/"1"', '"1",', ', "1"', '"a,b", "1"'])(
    'refuses a PATCH whose If-None-Match %s names the current version',
    async (header) => {
      const id = await note();
      expect((await http(t).patch(`/inm-notes/${id}`).set('If-None-Match', header).send({ title: 'changed' })).status).toBe(412);
      expect((await http(t).get(`/inm-notes/${id}`)).body).toMatchObject({ title: 'first', version: 1 });
    },
  );

  it.each(['"2"', '"2", W/"3"', '"not-a-version"', '""', '"1,2"'])('lets a PATCH through when If-None-Match %s names another version', async (header) => {
    const id = await note();
    const patch = await http(t).patch(`/inm-notes/${id}`).set('If-None-Match', header).send({ title: 'changed' });
    expect(patch.status).toBe(200);
    expect(patch.body).toMatchObject({ title: 'changed', version: 2 });
  });

  it.each(['nonsense', '1', '*, "1"', '"1" "2"', '', ' , '])('answers 400 to If-None-Match %p, which names no ETag, and writes nothing', async (header) => {
    const id = await note();
    const patch = await http(t).patch(`/inm-notes/${id}`).set('If-None-Match', header).send({ title: 'changed' });
    expect(patch.status).toBe(400);
    expect(patch.body.message).toBe('If-None-Match must be * or a list of ETags such as "3"');
    expect((await http(t).get(`/inm-notes/${id}`)).body).toMatchObject({ version: 1 });
  });

  it('refuses a DELETE with If-None-Match: *, and deletes with one naming an older version', async () => {
    const id = await note();
    expect((await http(t).delete(`/inm-notes/${id}`).set('If-None-Match', '*')).status).toBe(412);
    expect((await http(t).get(`/inm-notes/${id}`)).status).toBe(200);
    expect((await http(t).delete(`/inm-notes/${id}`).set('If-None-Match', '"5"')).status).toBe(204);
    expect((await http(t).get(`/inm-notes/${id}`)).status).toBe(404);
  });

  it("compares a restore's and a purge's If-None-Match with the deleted record's version", async () => {
    const id = await note();
    await http(t).patch(`/inm-notes/${id}`).send({ title: 'second' });
    expect((await http(t).delete(`/inm-notes/${id}`)).status).toBe(204);
    expect((await http(t).post(`/inm-notes/${id}/restore`).set('If-None-Match', '"2"').send({})).status).toBe(412);
    expect((await http(t).delete(`/inm-notes/${id}?purge=true`).set('If-None-Match', '*')).status).toBe(412);
    const restored = await http(t).post(`/inm-notes/${id}/restore`).set('If-None-Match', '"1"').send({});
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ title: 'second', version: 3 });
  });

  it('checks If-Match first: a stale If-Match answers its own 412', async () => {
    const id = await note();
    const patch = await http(t).patch(`/inm-notes/${id}`).set('If-Match', '"4"').set('If-None-Match', '"1"').send({ title: 'changed' });
    expect(patch.status).toBe(412);
    expect(patch.body.message).toBe('version 4 is stale; the record is at version 1');
  });

  it('leaves a missing record a 404 whatever If-None-Match says', async () => {
    const id = await note();
    await http(t).delete(`/inm-notes/${id}?purge=true`);
    expect((await http(t).patch(`/inm-notes/${id}`).set('If-None-Match', '*').send({ title: 'x' })).status).toBe(404);
  });
});
