import { Entity, EntityRepository, Field, getRepositoryToken } from '../../../lib/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('ghosts')
class Ghost {
  @Field() title!: string;
}

/**
 * A repository read begun inside a transaction callback reads the transaction's uncommitted
 * state: it resolves with a record that the rollback then removes (a record that never existed).
 * Writes begun there are refused; reads should be too, or read committed state only.
 */
describe('repository reads inside a transaction callback', () => {
  let t: TestApp;
  let ghosts: EntityRepository<Ghost>;
  beforeAll(async () => {
    t = await createTestApp({ entities: [Ghost] });
    ghosts = t.app.get(getRepositoryToken(Ghost));
  });
  afterAll(async () => t?.close());

  it('never answer with a record from a transaction that rolled back', async () => {
    let byId: Promise<unknown> | undefined;
    let listed: Promise<{ items: unknown[] }> | undefined;
    await expect(
      ghosts.transaction((tx) => {
        const ghost = tx.create(Ghost, { title: 'never committed' });
        byId = ghosts.findById(ghost.id);
        listed = ghosts.find({});
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    // Either refused (like a write begun there) or answered from committed state: never the ghost.
    expect(await byId!.catch(() => null)).toBeNull();
    expect(
      await listed!.then(
        (page) => page.items,
        () => [],
      ),
    ).toEqual([]);
    expect((await ghosts.find({})).items).toEqual([]);
  });

  it('fails the transaction that made one, which then stores nothing', async () => {
    let byId: Promise<unknown> | undefined;
    await expect(
      ghosts.transaction((tx) => {
        const ghost = tx.create(Ghost, { title: 'kept?' });
        byId = ghosts.findById(ghost.id);
        return ghost;
      }),
    ).rejects.toThrow(/a repository call was made inside a write/);
    await expect(byId).rejects.toThrow(TypeError);
    expect((await ghosts.find({})).items).toEqual([]);
  });
});
