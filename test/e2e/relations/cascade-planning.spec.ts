import { Entity, EntityRepository, Field, getRepositoryToken, Reference, ReferenceConflictException } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('cp-parents')
class Parent {
  @Field() name!: string;
}

@Entity('cp-children')
class Child {
  @Field() @Reference(() => Parent, { onDelete: 'cascade' }) parentId!: string;
}

@Entity('cp-notes')
class Note {
  @Field({ required: false }) @Reference(() => Parent, { onDelete: 'setNull' }) parentId?: string;
}

/** Holds back the delete of the child it names (restrict, the default), deep in a parent's cascade. */
@Entity('cp-locks')
class Lock {
  @Field() @Reference(() => Child) childId!: string;
}

/** Refers to a parent (restrict) and to one of its children (cascade): the parent's delete takes it along. */
@Entity('cp-pins')
class Pin {
  @Field() @Reference(() => Parent) parentId!: string;
  @Field() @Reference(() => Child, { onDelete: 'cascade' }) childId!: string;
}

@Entity('cp-nodes')
class Node {
  @Field() n!: number;
  @Field({ required: false }) @Reference(() => Node, { onDelete: 'cascade' }) parentId?: string;
}

@Entity('cp-roots')
class Root {
  @Field() name!: string;
}

/** Listed before Mid: found first from the root, yet it refers to a Mid as well. */
@Entity('cp-leaves')
class Leaf {
  @Field() @Reference(() => Root, { onDelete: 'cascade' }) rootId!: string;
  @Field() @Reference(() => Mid, { onDelete: 'cascade' }) midId!: string;
}

@Entity('cp-mids')
class Mid {
  @Field() @Reference(() => Root, { onDelete: 'cascade' }) rootId!: string;
}

describe('what a delete takes with it through @Reference', () => {
  let t: TestApp;
  const repo = <T extends object>(entity: new () => T) => t.app.get<EntityRepository<T>>(getRepositoryToken(entity));
  const eventCount = () => t.app.get(EntityStorage).events(0, 100_000).length;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Parent, Child, Note, Lock, Pin, Node, Root, Leaf, Mid] });
  });
  afterAll(() => t.close());

  it('checks every restrict first: a transaction that catches the refusal finds nothing of the delete stored', async () => {
    const parent = await repo(Parent).create({ name: 'p' });
    const children = await repo(Child).createMany([{ parentId: parent.id }, { parentId: parent.id }]);
    const note = await repo(Note).create({ parentId: parent.id });
    await repo(Lock).create({ childId: children[1]!.id });
    const before = eventCount();

    const caught = await repo(Parent).transaction((tx) => {
      try {
        tx.delete(Parent, parent.id);
        return undefined;
      } catch (error) {
        return error;
      }
    });

    expect(caught).toBeInstanceOf(ReferenceConflictException);
    expect((caught as Error).message).toBe(
      `cp-children: record ${children[1]!.id} is referred to by 1 cp-locks record(s) through childId, whose @Reference restricts its delete`,
    );
    expect(eventCount()).toBe(before);
    expect(await repo(Parent).findById(parent.id)).not.toBeNull();
    for (const child of children) expect(await repo(Child).findById(child.id)).not.toBeNull();
    expect(await repo(Note).findById(note.id)).toMatchObject({ parentId: parent.id, version: 1 });
  });

  it('lets a record restrict a delete that takes it along anyway', async () => {
    const parent = await repo(Parent).create({ name: 'q' });
    const child = await repo(Child).create({ parentId: parent.id });
    const pin = await repo(Pin).create({ parentId: parent.id, childId: child.id });

    await repo(Parent).delete(parent.id);

    expect(await repo(Child).findById(child.id)).toBeNull();
    expect(await repo(Pin).findById(pin.id)).toBeNull();
  });

  it('deletes each record after every record that refers to it, whichever path found it first', async () => {
    const root = await repo(Root).create({ name: 'r' });
    const mid = await repo(Mid).create({ rootId: root.id });
    const leaf = await repo(Leaf).create({ rootId: root.id, midId: mid.id });
    const before = t.app.get(EntityStorage).log.lastSeq();

    await repo(Root).delete(root.id);

    const deletes = t.app.get(EntityStorage).events(before, 10);
    expect(deletes.map((event) => [event.type, event.id])).toEqual([
      ['deleted', leaf.id],
      ['deleted', mid.id],
      ['deleted', root.id],
    ]);
  });

  it('deletes a cascade chain of any length, the records referring first, each once', async () => {
    const depth = 3_000;
    const ids = await repo(Node).transaction((tx) => {
      const made = [tx.create(Node, { n: 0 }).id];
      for (let n = 1; n < depth; n++) made.push(tx.create(Node, { n, parentId: made[n - 1]! }).id);
      return made;
    });
    const before = t.app.get(EntityStorage).log.lastSeq();

    await repo(Node).delete(ids[0]!);

    expect((await repo(Node).find({ limit: 10 })).items).toEqual([]);
    const deletes = t.app.get(EntityStorage).events(before, depth + 1);
    expect(deletes.map((event) => [event.type, event.id])).toEqual([...ids].reverse().map((id) => ['deleted', id]));
  }, 60_000);
});
