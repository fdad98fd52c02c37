import { Entity, EntityRepository, Field, getRepositoryToken, Permission, type Principal } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { http, principalFromHeader } from '../support/e2e.util.js';
import { as } from './access.util.js';

@Entity('vo-docs')
@Permission({ read: 'd:read', create: 'd:create', update: 'd:update' })
class Doc {
  @Field() title!: string;
  @Field({ required: false, hidden: true }) memo?: string;
  @Field({ required: false, default: 'none' }) @Permission({ read: 'd:secret' }) secret?: string;
}

/** Reads every field there is to read: nothing hidden, no read rule. */
@Entity('vo-notes')
@Permission({ read: 'd:read', create: 'd:create', update: 'd:update' })
class Note {
  @Field() title!: string;
}

const PLAIN: Principal = { id: 'plain', permissions: ['d:read', 'd:create', 'd:update'] };

/** Whether a write that changes nothing moved the version must tell no caller about a value it cannot see. */
describe.each(PLATFORMS)('versions of writes that change nothing, on %s', (platform) => {
  let t: TestApp;
  let docs: EntityRepository<Doc>;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Doc, Note], platform, module: { getPrincipal: principalFromHeader } });
    docs = t.app.get(getRepositoryToken(Doc));
  });
  afterAll(() => t.close());

  it('moves for a PATCH naming a hidden field, whether its value was the stored one or not', async () => {
    const doc = await docs.create({ title: 't', memo: 'm1' });
    const guessed = await http(t).patch(`/vo-docs/${doc.id}`).set(as(PLAIN)).send({ memo: 'm1' });
    expect([guessed.status, guessed.body.version]).toEqual([200, 2]);
  });

  it('moves for a PUT by a caller who cannot see every field, whether an unseen default would fill or not', async () => {
    const set = await docs.create({ title: 't', secret: 'x' });
    const unset = await docs.update((await docs.create({ title: 't' })).id, { secret: null } as never);
    const keptSet = await http(t).put(`/vo-docs/${set.id}`).set(as(PLAIN)).send({ title: 't' });
    const filledUnset = await http(t).put(`/vo-docs/${unset.id}`).set(as(PLAIN)).send({ title: 't' });
    expect([keptSet.body.version - set.version, filledUnset.body.version - unset.version]).toEqual([1, 1]);
  });

  it('stays for a PUT by a caller who sees every field, and for trusted code', async () => {
    const note = (await http(t).post('/vo-notes').set(as(PLAIN)).send({ title: 'n' }).expect(201)).body;
    const again = await http(t).put(`/vo-notes/${note.id}`).set(as(PLAIN)).send({ title: 'n' });
    expect([again.status, again.body.version]).toEqual([200, 1]);
    const doc = await docs.create({ title: 't', memo: 'm', secret: 's' });
    expect(await docs.replace(doc.id, { title: 't', memo: 'm', secret: 's' })).toEqual(doc);
  });
});
