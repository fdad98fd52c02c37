import 'reflect-metadata';
import { Entity, Field, Index } from '../../../lib/index.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';

/** derivedIndexName maps every character outside [A-Za-z0-9_-] to "_": `$rank` and `_rank` both become `i_rank`. */
@Entity('collide-items')
class CollideItem {
  @Field() @Index() $rank!: number;
  @Field() @Index() _rank!: number;
}

describe('derived index names (README: "where that is no valid database name the package makes it one")', () => {
  it('do not make two undeclared names collide and fail start-up', () => {
    expect(() => createEntityDefinition(CollideItem)).not.toThrow();
  });
});
