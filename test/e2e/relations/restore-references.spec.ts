import { EntitiesMaintenance, Entity, EntityRepository, Field, getRepositoryToken, Reference, ReferenceConflictException } from '../../../lib/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';
import { http } from '../support/e2e.util.js';

/** A node may name itself as its peer, and hangs below a parent (a cycle of cascades when two name each other). */
@Entity({ name: 'restore-nodes', softDelete: true })
class Node {
  @Field() name!: string;
  @Field({ required: false }) @Reference(() => Node) peerId?: string;
  @Field({ required: false }) @Reference(() => Node, { onDelete: 'cascade' }) parentId?: string;
}

/** README (Soft delete, References): a restore checks the restored record's references anew, as the restore's transaction ends. */
describe('restoring soft-deleted records that refer to each other', () => {
  let t: TestApp;
  let nodes: EntityRepository<Node>;
  beforeAll(async () => {
    t = await createTestApp({ entities: [Node] });
    nodes = t.app.get(getRepositoryToken(Node));
  });
  afterAll(() => t.close());

  const verified = async () => expect((await t.app.get(EntitiesMaintenance).verify()).problems).toEqual([]);

  it('brings back a record that refers to itself', async () => {
    const node = await nodes.create({ name: 'loop' });
    await nodes.update(node.id, { peerId: node.id });
    await http(t).delete(`/restore-nodes/${node.id}`).expect(204);
    const restored = await http(t).post(`/restore-nodes/${node.id}/restore`).send({}).expect(200);
    expect(restored.body).toMatchObject({ id: node.id, peerId: node.id, version: 3 });
    await verified();
  });

  it('brings back a cycle of cascade-deleted records restored in one transaction, and refuses one restored alone', async () => {
    const x = await nodes.create({ name: 'x' });
    const y = await nodes.create({ name: 'y', parentId: x.id });
    await nodes.update(x.id, { parentId: y.id });
    await nodes.delete(x.id);
    expect(await nodes.findById(y.id)).toBeNull();

    const alone = await http(t).post(`/restore-nodes/${x.id}/restore`).send({}).expect(409);
    expect(alone.body.message).toContain(`parentId refers to no restore-nodes record "${y.id}"`);
    await expect(nodes.restore(y.id)).rejects.toThrow(ReferenceConflictException);
    expect(await nodes.findById(x.id)).toBeNull();

    await nodes.transaction((tx) => {
      tx.restore(Node, x.id);
      tx.restore(Node, y.id);
    });
    expect(await nodes.findById(x.id)).toMatchObject({ parentId: y.id });
    expect(await nodes.findById(y.id)).toMatchObject({ parentId: x.id });
    await verified();
  });

  it('fails the whole transaction when a restored record still refers to a record not restored by its end', async () => {
    const parent = await nodes.create({ name: 'parent' });
    const child = await nodes.create({ name: 'child', parentId: parent.id });
    const other = await nodes.create({ name: 'other' });
    await nodes.delete(parent.id);
    await expect(
      nodes.transaction((tx) => {
        tx.update(Node, other.id, { name: 'changed' });
        tx.restore(Node, child.id);
      }),
    ).rejects.toThrow(ReferenceConflictException);
    expect(await nodes.findById(other.id)).toMatchObject({ name: 'other', version: 1 });
    expect(await nodes.findById(child.id)).toBeNull();
    await verified();
  });
});
