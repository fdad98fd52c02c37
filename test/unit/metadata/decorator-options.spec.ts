import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import { Composite } from '../../../lib/decorators/composite.decorator.js';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { Index } from '../../../lib/decorators/index.decorator.js';
import { Reference } from '../../../lib/decorators/reference.decorator.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { EntityMetadataException } from '../../../lib/metadata/entity-metadata.exception.js';

@Entity('option-targets')
class Target {
  @Field() title!: string;
}

/** README (Decorators): wrong metadata fails at start-up, naming the class and the field; a misspelt option or a flag given as text would quietly decide the opposite. */
describe('decorator options', () => {
  it.each<[string, string, () => Type<object>]>([
    [
      'a misspelt @Field option',
      'Thing.title: @Field has no option "requried" (it takes required, default, immutable, hidden, description, example, type)',
      () => {
        @Entity('o-field-typo')
        class Thing {
          @Field({ requried: false } as never) title!: string;
        }
        return Thing;
      },
    ],
    [
      'a @Field flag given as text',
      'Thing.token: @Field hidden must be true or false, not "false"',
      () => {
        @Entity('o-field-text')
        class Thing {
          @Field({ hidden: 'false' } as never) token!: string;
        }
        return Thing;
      },
    ],
    [
      'a misspelt @Index option',
      'Thing.code: @Index has no option "uniqe" (it takes unique, name)',
      () => {
        @Entity('o-index-typo')
        class Thing {
          @Field() @Index({ uniqe: true } as never) code!: string;
        }
        return Thing;
      },
    ],
    [
      'an @Index flag given as text',
      'Thing.code: @Index unique must be true or false, not "no"',
      () => {
        @Entity('o-index-text')
        class Thing {
          @Field() @Index({ unique: 'no' } as never) code!: string;
        }
        return Thing;
      },
    ],
    [
      'a misspelt @Reference option',
      'Thing.targetId: @Reference has no option "ondelete" (it takes onDelete, as)',
      () => {
        @Entity('o-reference-typo')
        class Thing {
          @Field() @Reference(() => Target, { ondelete: 'cascade' } as never) targetId!: string;
        }
        return Thing;
      },
    ],
    [
      'a misspelt @Composite option',
      'Thing: @Composite has no option "uniq" (it takes unique, name)',
      () => {
        @Entity('o-composite-typo')
        @Composite(['a', 'b'], { uniq: true } as never)
        class Thing {
          @Field() a!: string;
          @Field() b!: string;
        }
        return Thing;
      },
    ],
    [
      "@Composite's fields as one string",
      'Thing: @Composite("ab") must name its fields in an array',
      () => {
        @Entity('o-composite-string')
        @Composite('ab' as never)
        class Thing {
          @Field() a!: string;
          @Field() b!: string;
        }
        return Thing;
      },
    ],
    [
      'a misspelt @Entity option',
      'Thing: @Entity has no option "softdelete" (it takes name, path, softDelete, migrations)',
      () => {
        @Entity({ name: 'o-entity-typo', softdelete: true } as never)
        class Thing {
          @Field() a!: string;
        }
        return Thing;
      },
    ],
    [
      'an @Entity path that is no string',
      'Thing: @Entity path must be a string, not 10',
      () => {
        @Entity({ name: 'o-entity-path', path: 10 } as never)
        class Thing {
          @Field() a!: string;
        }
        return Thing;
      },
    ],
  ])('fails start-up on %s', (_case, message, declare) => {
    let caught: unknown;
    try {
      createEntityDefinition(declare());
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EntityMetadataException);
    expect((caught as Error).message).toContain(message);
  });

  it('takes every documented option', () => {
    @Entity({ name: 'o-all', path: 'all', softDelete: true })
    @Composite(['a', 'b'], { unique: true, name: 'a_b' })
    class All {
      @Field({ required: false, default: 'x', immutable: true, hidden: false, description: 'A', example: 'x', type: 'string' }) a?: string;
      @Field() @Index({ unique: false, name: 'b_index' }) b!: string;
      @Field({ required: false }) @Reference(() => Target, { onDelete: 'setNull', as: 'target' }) targetId?: string;
    }
    expect(createEntityDefinition(All).name).toBe('o-all');
  });
});
