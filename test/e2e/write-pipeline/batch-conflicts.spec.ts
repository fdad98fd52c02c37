import {
  Entity,
  EntityRepository,
  Field,
  getRepositoryToken,
  Index,
  Reference,
  ReferenceConflictException,
  UniqueConstraintException,
} from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { http } from '../support/e2e.util.js';

/** A batch's 409 names the element that conflicts, as its 400 names the invalid one: in a batch of 1000 the client must know which to fix. */
@Entity('bci-parents')
class Parent {
  @Field() @Index({ unique: true }) code!: string;
}

@Entity('bci-children')
class Child {
  @Field() @Reference(() => Parent) parentId!: string;
  @Field() label!: string;
}

const NEVER_USED_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

describe.each(PLATFORMS)('batch conflicts name the element, %s', (platform) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ entities: [Parent, Child], platform });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('names the element whose unique value is taken, and stores none of the batch', async () => {
    await http(t).post('/bci-parents').send({ code: 'taken' });
    const response = await http(t)
      .post('/bci-parents/batch')
      .send([{ code: 'free-1' }, { code: 'free-2' }, { code: 'taken' }]);
    expect(response.status).toBe(409);
    expect(response.body.message).toBe('bci-parents: [2] another record has the same code (unique index "code")');
    expect((await http(t).get('/bci-parents?code=free-1')).body.items).toEqual([]);
  });

  it('names the element that repeats a unique value of an earlier element', async () => {
    const response = await http(t)
      .post('/bci-parents/batch')
      .send([{ code: 'dup' }, { code: 'other' }, { code: 'dup' }]);
    expect(response.status).toBe(409);
    expect(response.body.message).toContain('[2] another record has the same code');
  });

  it('names the element whose reference points to no record', async () => {
    const parent = await http(t).post('/bci-parents').send({ code: 'p1' });
    const response = await http(t)
      .post('/bci-children/batch')
      .send([
        { parentId: parent.body.id, label: 'ok' },
        { parentId: NEVER_USED_ID, label: 'dangling' },
      ]);
    expect(response.status).toBe(409);
    expect(response.body.message).toBe(`bci-children: [1] parentId refers to no bci-parents record "${NEVER_USED_ID}"`);
  });

  it('gives the element to code calling createMany, and none to a single create', async () => {
    const parents = t.app.get<EntityRepository<Parent>>(getRepositoryToken(Parent));
    await parents.create({ code: 'held' });
    const batch = await parents.createMany([{ code: 'new' }, { code: 'held' }]).catch((error: unknown) => error);
    expect(batch).toBeInstanceOf(UniqueConstraintException);
    expect(batch).toMatchObject({ element: 1, index: 'code', fields: ['code'] });
    const single = await parents.create({ code: 'held' }).catch((error: unknown) => error);
    expect(single).toBeInstanceOf(UniqueConstraintException);
    expect((single as UniqueConstraintException).element).toBeUndefined();
    const children = t.app.get<EntityRepository<Child>>(getRepositoryToken(Child));
    const dangling = await children.createMany([{ parentId: NEVER_USED_ID, label: 'x' }]).catch((error: unknown) => error);
    expect(dangling).toBeInstanceOf(ReferenceConflictException);
    expect(dangling).toMatchObject({ element: 0, detail: `parentId refers to no bci-parents record "${NEVER_USED_ID}"` });
  });
});
