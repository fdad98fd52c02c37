import { Cached, Entity, Field, Permission } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { asPrincipal, http, principalFromHeader } from '../support/e2e.util.js';

/** Everyone reads; deleting needs the permission or owning the record; reads are cached. */
@Entity({ name: 'sdc-notes', softDelete: true })
@Permission({ read: null, create: null, update: null, delete: 'notes:delete', owner: 'owner' })
@Cached({ ttl: 60_000 })
class CachedNote {
  @Field() text!: string;
  @Field({ required: false }) owner?: string;
}

const OFFICER = asPrincipal({ id: 'officer', permissions: ['notes:delete'] });
const BOB = asPrincipal({ id: 'bob', permissions: [] });

describe.each(PLATFORMS)('deleted records of a cached entity on %s', (platform) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ entities: [CachedNote], platform, module: { getPrincipal: principalFromHeader } });
  });
  afterAll(() => t.close());

  it('are listed per principal, never from an answer cached for another', async () => {
    const bobs = await http(t).post('/sdc-notes').set(BOB).send({ text: 'mine' }).expect(201);
    const other = await http(t).post('/sdc-notes').set(OFFICER).send({ text: 'theirs' }).expect(201);
    await http(t).delete(`/sdc-notes/${bobs.body.id}`).set(BOB).expect(204);
    await http(t).delete(`/sdc-notes/${other.body.id}`).set(OFFICER).expect(204);

    const forOfficer = await http(t).get('/sdc-notes?deleted=only').set(OFFICER);
    expect(forOfficer.body.items.map((item: { id: string }) => item.id)).toEqual([bobs.body.id, other.body.id]);
    const forBob = await http(t).get('/sdc-notes?deleted=only').set(BOB);
    expect(forBob.body.items.map((item: { id: string }) => item.id)).toEqual([bobs.body.id]);
    const live = await http(t).get('/sdc-notes').set(BOB);
    expect(live.body.items).toEqual([]);
  });
});
