import 'reflect-metadata';
import { BadRequestException } from '@nestjs/common';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { parseListQuery } from '../../../lib/http/list-query.util.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { normalizeQuery } from '../../../lib/query/query-clause.util.js';

@Entity('permits')
class Permit {
  @Field() status!: string;
  @Field() amount!: number;
  @Field() paid!: boolean;
  @Field() issuedOn!: Date;
  @Field({ hidden: true }) secret!: string;
}

const definition = createEntityDefinition(Permit);
const parse = (url: string) => parseListQuery(definition, url);

function badRequest(url: string): BadRequestException {
  let caught: unknown;
  try {
    parse(url);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(BadRequestException);
  return caught as BadRequestException;
}

describe('parseListQuery', () => {
  it('reads no query string as an empty query', () => {
    expect(parse('/permits')).toEqual({});
    expect(parse('/permits?')).toEqual({});
  });

  it('reads a bare value as equality', () => {
    expect(parse('/permits?status=open')).toEqual({ where: { status: { eq: 'open' } } });
  });

  it('reads every operator', () => {
    expect(parse('/permits?amount[gt]=1&status[ne]=closed&issuedOn[gte]=2024-01-01&paid[eq]=true&secretless=1'.replace('&secretless=1', ''))).toEqual({
      where: { amount: { gt: 1 }, status: { ne: 'closed' }, issuedOn: { gte: '2024-01-01T00:00:00.000Z' }, paid: { eq: true } },
    });
    expect(parse('/permits?amount[lt]=10&amount[lte]=9.5&amount[gte]=-2')).toEqual({ where: { amount: { lt: 10, lte: 9.5, gte: -2 } } });
    expect(parse('/permits?status[in]=open,closed')).toEqual({ where: { status: { in: ['open', 'closed'] } } });
    expect(parse('/permits?amount[in]=1,2.5,-3')).toEqual({ where: { amount: { in: [1, 2.5, -3] } } });
    expect(parse('/permits?status[in]=&amount[in]=')).toEqual({ where: { status: { in: [] }, amount: { in: [] } } });
    expect(parse('/permits?status[in]=,')).toEqual({ where: { status: { in: ['', ''] } } });
    expect(parse('/permits?status[prefix]=op')).toEqual({ where: { status: { prefix: 'op' } } });
  });

  it('reads URL-encoded keys and values', () => {
    expect(parse('/permits?status%5Bprefix%5D=a%26b%3Dc&amount%5Bgte%5D=10')).toEqual({
      where: { status: { prefix: 'a&b=c' }, amount: { gte: 10 } },
    });
    expect(parse('/permits?status=a+b')).toEqual({ where: { status: { eq: 'a b' } } });
  });

  it('converts values to the field type', () => {
    const query = parse('/permits?amount=12.5&paid=false&issuedOn=2024-03-01T10:00:00%2B02:00');
    expect(query.where).toEqual({ amount: { eq: 12.5 }, paid: { eq: false }, issuedOn: { eq: '2024-03-01T08:00:00.000Z' } });
  });

  it('converts the managed fields too', () => {
    expect(parse('/permits?version[gte]=2&createdAt[lt]=2024-01-01&id=01J0')).toEqual({
      where: { version: { gte: 2 }, createdAt: { lt: '2024-01-01T00:00:00.000Z' }, id: { eq: '01J0' } },
    });
  });

  it('reads numbers written in decimal, with a fraction or an exponent', () => {
    expect(parse('/permits?amount=10&version[gte]=2')).toEqual({ where: { amount: { eq: 10 }, version: { gte: 2 } } });
    expect(parse('/permits?amount[gt]=-1.5&amount[lt]=1e3&amount[ne]=2.5E-2')).toEqual({ where: { amount: { gt: -1.5, lt: 1000, ne: 0.025 } } });
    expect(parse('/permits?amount[in]=007,-0.5,1e%2B2')).toEqual({ where: { amount: { in: [7, -0.5, 100] } } });
  });

  it.each(['0x10', '0X10', '-0x10', '0b1', '0o7', '', ' ', ' 5', '5 ', '+5', '.5', '5.', '1_000', '1,5', 'Infinity', '-Infinity', 'NaN', '1e400', '1e', '--1'])(
    'answers 400 to %j for a number field, naming the field',
    (value) => {
      expect(badRequest(`/permits?amount=${encodeURIComponent(value)}`).message).toContain('amount');
      expect(badRequest(`/permits?amount[gte]=${encodeURIComponent(value)}`).message).toContain('amount[gte]');
      expect(badRequest(`/permits?version=${encodeURIComponent(value)}`).message).toContain('version');
    },
  );

  it('answers 400 to a number in an [in] list that is not decimal, naming the field', () => {
    for (const list of ['1,0x10', '1,', '1, 2', '0b1']) {
      expect(badRequest(`/permits?amount[in]=${encodeURIComponent(list)}`).message).toContain('amount[in]');
    }
  });

  it.each([
    ['amount=abc', 'amount'],
    ['amount=', 'amount'],
    ['amount=Infinity', 'amount'],
    ['amount[in]=1,x', 'amount[in]'],
    ['paid=yes', 'paid'],
    ['paid=1', 'paid'],
    ['issuedOn=tomorrow', 'issuedOn'],
    ['issuedOn=2024-13-45', 'issuedOn'],
    ['version=one', 'version'],
  ])('answers 400 to a value of the wrong type: %s', (query, key) => {
    expect(badRequest(`/permits?${query}`).message).toContain(key);
  });

  it('answers 400 to a repeated parameter, naming it', () => {
    expect(badRequest('/permits?status=open&status=closed').message).toContain('status');
    expect(badRequest('/permits?amount[gt]=1&amount[gt]=2').message).toContain('amount[gt]');
    expect(badRequest('/permits?limit=1&limit=2').message).toContain('limit');
    expect(badRequest('/permits?sort=amount&sort=-amount').message).toContain('sort');
  });

  it('answers 400 to a filter on a field that does not exist, naming it', () => {
    expect(badRequest('/permits?colour=red').message).toContain('colour');
    expect(badRequest('/permits?colour[gt]=red').message).toContain('colour');
  });

  it('answers 400 to keys that name an object prototype member', () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '__proto__[eq]']) {
      expect(badRequest(`/permits?${encodeURIComponent(key)}=x`)).toBeInstanceOf(BadRequestException);
    }
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it('answers 400 to a filter or sort on a hidden field, as if it did not exist', () => {
    expect(badRequest('/permits?secret=x').message).toContain('secret');
    expect(badRequest('/permits?secret[prefix]=x').message).toContain('secret');
    expect(badRequest('/permits?sort=-secret').message).toContain('secret');
  });

  it('answers 400 to an unknown operator or a malformed key', () => {
    expect(badRequest('/permits?amount[between]=1').message).toContain('between');
    expect(badRequest('/permits?amount[GT]=1')).toBeInstanceOf(BadRequestException);
    expect(badRequest('/permits?amount[gt=1')).toBeInstanceOf(BadRequestException);
    expect(badRequest('/permits?amount[gt][lt]=1')).toBeInstanceOf(BadRequestException);
  });

  it('answers 400 to more than 64 parameters', () => {
    const values: Record<string, string> = {
      status: 'x',
      id: 'x',
      amount: '1',
      version: '1',
      paid: 'true',
      issuedOn: '2024-01-01',
      createdAt: '2024-01-01',
      updatedAt: '2024-01-01',
    };
    const params: string[] = [];
    for (const [field, value] of Object.entries(values)) {
      // `field=` already is the eq condition; each parameter below is a distinct condition.
      params.push(`${field}=${value}`);
      for (const op of ['ne', 'gt', 'gte', 'lt', 'lte', 'in', 'prefix']) {
        if (op !== 'prefix' || value === 'x') params.push(`${field}[${op}]=${value}`);
      }
    }
    params.push('sort=amount', 'limit=5');
    expect(() => parse(`/permits?${params.join('&')}`)).not.toThrow();
    const tooMany = Array.from({ length: 65 }, (_, i) => `p${i}=1`);
    expect(badRequest(`/permits?${tooMany.join('&')}`).message).toContain('64');
  });

  it('answers 400 to an [in] list of more than 100 values', () => {
    const values = Array.from({ length: 101 }, (_, i) => i).join(',');
    expect(badRequest(`/permits?amount[in]=${values}`).message).toContain('100');
    expect(parse(`/permits?amount[in]=${values.split(',').slice(0, 100).join(',')}`).where!.amount).toEqual({
      in: Array.from({ length: 100 }, (_, i) => i),
    });
  });

  it('reads sort, ascending and descending, on declared and managed fields', () => {
    expect(parse('/permits?sort=amount')).toEqual({ sort: 'amount' });
    expect(parse('/permits?sort=-issuedOn')).toEqual({ sort: '-issuedOn' });
    expect(parse('/permits?sort=-createdAt')).toEqual({ sort: '-createdAt' });
    expect(badRequest('/permits?sort=colour').message).toContain('colour');
  });

  it('reads limit as an integer', () => {
    expect(parse('/permits?limit=1')).toEqual({ limit: 1 });
    expect(parse('/permits?limit=1000')).toEqual({ limit: 1000 });
    for (const limit of ['', 'ten', '1.5', '-1', '1e3', '0x10', ' 5']) {
      expect(badRequest(`/permits?limit=${encodeURIComponent(limit)}`).message).toContain('limit');
    }
  });

  it('lets no limit outside 1 to 1000 through to a read', () => {
    for (const limit of ['0', '1001', '99999999']) {
      expect(() => normalizeQuery(definition, parse(`/permits?limit=${limit}`))).toThrow(/limit/);
    }
  });

  it('passes the cursor through untouched', () => {
    expect(parse('/permits?cursor=abc_-1&status=open')).toEqual({ cursor: 'abc_-1', where: { status: { eq: 'open' } } });
  });

  it('gives a query that normalizeQuery accepts as it is', () => {
    const query = parse('/permits?status[in]=open,closed&amount[gte]=1&issuedOn[lt]=2030-01-01&sort=-amount&limit=20');
    expect(normalizeQuery(definition, query)).toEqual({
      clauses: [
        { field: 'status', op: 'in', value: ['open', 'closed'] },
        { field: 'amount', op: 'gte', value: 1 },
        { field: 'issuedOn', op: 'lt', value: '2030-01-01T00:00:00.000Z' },
      ],
      sort: { field: 'amount', descending: true },
      limit: 20,
      cursor: undefined,
      deleted: 'exclude',
    });
  });
});
