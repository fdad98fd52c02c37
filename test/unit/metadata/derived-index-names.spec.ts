import 'reflect-metadata';
import { Composite, Entity, Field, Index, Reference } from '../../../lib/index.js';
import { STORAGE_NAME } from '../../../lib/common/metadata.constants.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { derivedIndexName } from '../../../lib/metadata/index-name.util.js';

@Entity('derived-parents')
class Parent {
  @Field() name!: string;
}

const LONG = `field${'x'.repeat(70)}`;

/** Field names may start with `_` or `$` and run long; database names may not. */
@Entity('derived-children')
@Composite(['_kind', '$rank'])
class Child {
  @Field() @Reference(() => Parent, { as: 'parent' }) _parentId!: string;
  @Field() @Index() _kind!: string;
  @Field() $rank!: number;
}
Field({ required: false, type: 'string' })(Child.prototype, LONG);
Index()(Child.prototype, LONG);

describe('index names the package derives from field names', () => {
  it('are valid storage names, stable and distinct, for fields whose names are not', () => {
    const names = createEntityDefinition(Child).indexes.map((index) => index.name);
    expect([...names].sort()).toEqual(['_kind', '_kind_$rank', '_parentId', LONG].map(derivedIndexName).sort());
    expect(names.find((name) => name.startsWith('i_parentId_'))).toMatch(/^i_parentId_[0-9a-f]{8}$/);
    for (const name of names) expect(name).toMatch(STORAGE_NAME);
    expect(new Set(names).size).toBe(names.length);
    expect(createEntityDefinition(Child).indexes.map((index) => index.name)).toEqual(names);
  });

  it('keep a name that is valid as it is', () => {
    expect(derivedIndexName('number')).toBe('number');
    expect(derivedIndexName('client_county_status')).toBe('client_county_status');
  });

  it('shorten a long name with a digest of the whole', () => {
    const name = derivedIndexName(LONG);
    expect(name).toHaveLength(64);
    expect(name).toMatch(STORAGE_NAME);
    expect(derivedIndexName(`${LONG}y`)).not.toBe(name);
  });
});
