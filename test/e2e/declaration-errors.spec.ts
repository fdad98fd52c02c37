import type { Type } from '@nestjs/common';
import { Entity, EntityMetadataException, Field, Reference } from '../../lib/index.js';
import request from 'supertest';
import { startUpFailure } from '../support/start-up-failure.util.js';
import { createTestApp } from '../support/test-app.util.js';

describe('declaration errors are EntityMetadataExceptions naming the class and the field', () => {
  it.each(['valueOf', 'toString', 'hasOwnProperty'])('a field named %s (an Object.prototype member)', async (name) => {
    @Entity(`proto-${name.toLowerCase()}`)
    class Thing {
      @Field() title!: string;
    }
    Field({ required: false, type: 'string' })(Thing.prototype, name);
    // Today: TypeError "grouped[metadata.propertyName].push is not a function" from class-validator,
    // thrown while EntitiesModule.forFeature() builds the body validator.
    const failure = await startUpFailure([Thing]);
    expect(failure).toBeInstanceOf(EntityMetadataException);
    expect((failure as Error).message).toContain(`Thing.${name}`);
  });

  it('a @Reference to a class that is no entity at all names the referring field (README, References)', async () => {
    class Plain {
      name!: string;
    }
    @Entity('plain-refs')
    class Referrer {
      @Field() @Reference(() => Plain as Type<object>) plainId!: string;
    }
    const failure = await startUpFailure([Referrer]);
    expect(failure).toBeInstanceOf(EntityMetadataException);
    expect((failure as Error).message).toContain('Referrer.plainId');
  });

  it('a @Reference whose function returns nothing, or throws (an import cycle), names the referring field', async () => {
    @Entity('undefined-refs')
    class Dangling {
      @Field() @Reference(() => undefined as unknown as Type<object>) ownerId!: string;
    }
    @Entity('throwing-refs')
    class Cyclic {
      @Field()
      @Reference(() => {
        throw new ReferenceError('Owner is not defined');
      })
      ownerId!: string;
    }
    for (const [entity, name] of [
      [Dangling, 'Dangling'],
      [Cyclic, 'Cyclic'],
    ] as const) {
      const failure = await startUpFailure([entity]);
      expect(failure).toBeInstanceOf(EntityMetadataException);
      expect((failure as Error).message).toContain(`${name}.ownerId`);
    }
    expect(((await startUpFailure([Cyclic])) as Error).message).toContain('Owner is not defined');
  });

  it('a @Reference on a field whose name is no database name (`_parentId`) starts, its index named by the package', async () => {
    @Entity('underscore-parents')
    class Parent {
      @Field() name!: string;
    }
    @Entity('underscore-children')
    class Child {
      @Field() @Reference(() => Parent, { as: 'parent' }) _parentId!: string;
    }
    const t = await createTestApp({ entities: [Parent, Child] });
    try {
      const parent = (await request(t.server()).post('/underscore-parents').send({ name: 'p' }).expect(201)).body;
      await request(t.server()).post('/underscore-children').send({ _parentId: parent.id }).expect(201);
      // The index finds the child that refers to it: the delete is restricted.
      await request(t.server()).delete(`/underscore-parents/${parent.id}`).expect(409);
    } finally {
      await t.close();
    }
  });
});
