import 'reflect-metadata';
import { BadRequestException } from '@nestjs/common';
import { FILTER_OPERATORS } from '../../../lib/common/filter-operators.constants.js';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { parseListQuery } from '../../../lib/http/list-query.util.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { InvalidQueryException } from '../../../lib/query/invalid-query.exception.js';
import { normalizeQuery } from '../../../lib/query/query-clause.util.js';

@Entity('permits')
class Permit {
  @Field() status!: string;
}

const definition = createEntityDefinition(Permit);

describe('FILTER_OPERATORS', () => {
  it.each(FILTER_OPERATORS)('is what the list route and find both accept: %s', (op) => {
    const where = parseListQuery(definition, `/permits?status[${op}]=open`).where!;
    expect(Object.keys(where.status!)).toEqual([op]);
    expect(normalizeQuery(definition, { where }).clauses).toEqual([{ field: 'status', op, value: op === 'in' ? ['open'] : 'open' }]);
  });

  it('is all they accept', () => {
    expect(() => parseListQuery(definition, '/permits?status[like]=open')).toThrow(BadRequestException);
    expect(() => normalizeQuery(definition, { where: { status: { like: 'open' } as never } })).toThrow(InvalidQueryException);
  });
});
