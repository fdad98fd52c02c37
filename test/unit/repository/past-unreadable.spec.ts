import 'reflect-metadata';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { pastUnreadable } from '../../../lib/repository/past-unreadable.util.js';

/** `ssn` became the hidden `taxId`, `salary` became `pay`, and both freed names hold new fields; `nickname` became `alias` and is gone. */
@Entity({ name: 'past-people', migrations: [{ version: 2, rename: { ssn: 'taxId', salary: 'pay', nickname: 'alias' } }] })
class Person {
  @Field({ hidden: true }) taxId!: string;
  @Field() ssn!: string;
  @Field() pay!: string;
  @Field() salary!: string;
  @Field() alias!: string;
}

describe('pastUnreadable', () => {
  const definition = createEntityDefinition(Person);

  it('adds a name declared again whose old values went to a hidden or unreadable field', () => {
    expect([...pastUnreadable(definition, new Set())]).toEqual(['ssn']);
    expect([...pastUnreadable(definition, new Set(['pay']))].sort()).toEqual(['pay', 'salary', 'ssn']);
  });

  it('leaves a name no class field reuses to the view, which drops undeclared names anyway', () => {
    expect(pastUnreadable(definition, new Set(['alias']))).toEqual(new Set(['alias', 'ssn']));
  });
});
