import { Entity, EntityRepository, Field, getRepositoryToken } from '../../../lib/index.js';
import { http } from '../../e2e/support/e2e.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';

/** The entity as an earlier release of the app declared it. */
@Entity('evolving-notes')
class NoteBefore {
  @Field() title!: string;
  @Field({ required: false }) legacyCode?: string;
  @Field({ required: false, hidden: true }) legacySecret?: string;
}

/** The same entity once `legacyCode` and `legacySecret` were removed from the class. */
@Entity('evolving-notes')
class NoteAfter {
  @Field() title!: string;
}

const CURRENT_FIELDS = ['createdAt', 'id', 'title', 'updatedAt', 'version'];

describe.each(PLATFORMS)('fields removed from the class, on %s', (platform) => {
  let dir: ReturnType<typeof makeTempDir>;
  let t: TestApp;
  let notes: EntityRepository<NoteAfter>;
  let id: string;

  beforeAll(async () => {
    dir = makeTempDir();
    const before = await createTestApp({ entities: [NoteBefore], path: dir.path, platform });
    const stored = await before.app.get<EntityRepository<NoteBefore>>(getRepositoryToken(NoteBefore)).create({
      title: 'from the old release',
      legacyCode: 'L-1',
      legacySecret: 'kept on disk',
    });
    id = stored.id;
    await before.close();
    t = await createTestApp({ entities: [NoteAfter], path: dir.path, platform });
    notes = t.app.get(getRepositoryToken(NoteAfter));
  });

  afterAll(async () => {
    await t?.close();
    dir?.remove();
  });

  it('are not in what the repository reads, trusted or for a principal', async () => {
    expect(Object.keys((await notes.findById(id))!).sort()).toEqual(CURRENT_FIELDS);
    expect(Object.keys((await notes.findById(id, { principal: null }))!).sort()).toEqual(CURRENT_FIELDS);
    const page = await notes.find({ where: { title: 'from the old release' } });
    expect(page.items.map((item) => Object.keys(item).sort())).toEqual([CURRENT_FIELDS]);
    expect(Object.keys((await notes.transaction((tx) => tx.findById(NoteAfter, id)))!).sort()).toEqual(CURRENT_FIELDS);
  });

  it('are not in what the repository writes return, even when the write leaves the record as it was', async () => {
    expect(Object.keys(await notes.update(id, { title: 'from the old release' })).sort()).toEqual(CURRENT_FIELDS);
    expect(Object.keys(await notes.update(id, { title: 'edited' })).sort()).toEqual(CURRENT_FIELDS);
    expect(Object.keys(await notes.update(id, { title: 'from the old release' }, { principal: null })).sort()).toEqual(CURRENT_FIELDS);
  });

  it('are not in what GET /P/:id, GET /P and PATCH /P/:id answer', async () => {
    const one = await http(t).get(`/evolving-notes/${id}`);
    expect(one.status).toBe(200);
    expect(Object.keys(one.body).sort()).toEqual(CURRENT_FIELDS);
    const list = await http(t).get('/evolving-notes');
    expect(list.body.items.map((item: object) => Object.keys(item).sort())).toEqual([CURRENT_FIELDS]);
    const patched = await http(t).patch(`/evolving-notes/${id}`).send({ title: 'patched' });
    expect(patched.status).toBe(200);
    expect(Object.keys(patched.body).sort()).toEqual(CURRENT_FIELDS);
  });
});
