import fc from 'fast-check';
import type { EntityDefinition } from '../../../lib/index.js';
import type { Expectation } from './body-mutations.util.js';
import { filterableFields, UNUSUAL_TEXT, validClause, validListQuery } from './definition-arbitraries.util.js';
import type { CaseDraft, CursorUse } from './hostile-case.interface.js';

function encodeParams(params: [string, string][]): string {
  return params.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&');
}

/**
 * `GET /P` queries: valid ones (answered 200, every item matching), cursors valid,
 * tampered or made for another sort, and every way README says a query gets 400.
 */
export function listCases(definition: EntityDefinition): fc.Arbitrary<CaseDraft> {
  const fields = filterableFields(definition);
  const typed = fields.filter((field) => field.type !== 'string');
  const hidden = definition.fields.filter((field) => field.hidden).map((field) => field.name);
  const valid = validListQuery(definition);
  const refuse = (kind: string, query: fc.Arbitrary<string>, statuses = [400]): fc.Arbitrary<CaseDraft> =>
    query.map((text) => ({ kind, expect: 'refuse' as Expectation, query: text, statuses }));
  const refusals: fc.Arbitrary<CaseDraft>[] = [
    refuse(
      'repeated key',
      fc.tuple(validClause(definition), fc.string({ maxLength: 8 })).map(([[key, value], other]) =>
        encodeParams([
          [key, value],
          [key, other],
        ]),
      ),
    ),
    refuse(
      'unknown field or operator',
      fc
        .tuple(
          fc.constantFrom(
            'nope',
            'nope[eq]',
            `${fields[0]!.name}[regex]`,
            `${fields[0]!.name}[]`,
            `${fields[0]!.name}[gt][lt]`,
            `${fields[0]!.name}[GT]`,
            '__proto__[polluted]',
            'constructor[prototype]',
            'hasOwnProperty',
            '$where',
            'where[x]',
            'a.b',
            '[gt]',
          ),
          fc.string({ maxLength: 6 }),
        )
        .map(([key, value]) => encodeParams([[key, value]])),
    ),
    ...(hidden.length > 0
      ? [
          refuse(
            'hidden field filter',
            fc.tuple(fc.constantFrom(...hidden), fc.string()).map(([key, value]) => encodeParams([[key, value]])),
          ),
        ]
      : []),
    ...(typed.length > 0
      ? [
          refuse(
            'wrong type in a filter',
            fc
              .tuple(
                fc.constantFrom(...typed),
                fc.constantFrom('eq', 'gt', 'in', 'prefix'),
                fc.constantFrom('abc', 'NaN', 'Infinity', '', ' ', '1e999', 'TRUE', '1,x'),
              )
              // `f[in]=` is an empty list (README), of any type.
              .filter(([, op, value]) => !(op === 'in' && value === ''))
              .map(([field, op, value]) => encodeParams([[op === 'eq' ? field.name : `${field.name}[${op}]`, value]])),
          ),
        ]
      : []),
    refuse(
      'too many clauses',
      fc.integer({ min: 65, max: 1500 }).map((count) => Array.from({ length: count }, (_, index) => `a${index}=1`).join('&')),
    ),
    refuse('10k clauses', fc.constant(Array.from({ length: 10_000 }, (_, index) => `f${index}=1`).join('&')), [431]),
    refuse(
      'long in list',
      fc.integer({ min: 101, max: 2000 }).map((count) => `id[in]=${Array.from({ length: count }, (_, index) => index).join(',')}`),
    ),
    refuse(
      'bad limit',
      fc
        .constantFrom('1e9', '0', '-1', '1.5', '1001', '', 'abc', '0x10', '%205', '5%20', '10000000', '99999999999', 'Infinity', '1,2')
        .map((limit) => `limit=${limit}`),
    ),
    refuse(
      'bad sort',
      fc.constantFrom('nope', '--id', '+id', '', '-', 'id,version', '__proto__', ...hidden).map((sort) => `sort=${encodeURIComponent(sort)}`),
    ),
    refuse(
      'forged cursor',
      fc
        .oneof(
          fc.base64String({ minLength: 1, maxLength: 200 }),
          fc.string({ minLength: 1, maxLength: 60 }),
          fc.constantFrom('null', 'undefined', '[]', 'AAAA', 'A'.repeat(5000)),
        )
        .map((cursor) => `cursor=${encodeURIComponent(cursor)}`),
    ),
  ];
  return fc.oneof(
    {
      weight: 10,
      arbitrary: valid.map(({ params }): CaseDraft => ({
        kind: 'valid query',
        expect: 'accept',
        query: encodeParams(params),
        equalities: params.filter(([key]) => !key.includes('[') && key !== 'sort' && key !== 'limit'),
      })),
    },
    {
      weight: 4,
      arbitrary: fc.tuple(fc.constantFrom<CursorUse['mode']>('valid', 'valid', 'tampered', 'other sort'), fc.nat()).map(([mode, pick]): CaseDraft => ({
        kind: `${mode} cursor`,
        expect: mode === 'valid' ? 'accept' : 'refuse',
        cursor: { mode, pick },
        statuses: [400],
      })),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...fields.filter((field) => field.type === 'string')),
          fc.constantFrom('eq', 'prefix', 'ne', 'gt', 'in'),
          fc.constantFrom(...UNUSUAL_TEXT.filter((text) => !text.includes(',')), `${'a'.repeat(5000)}!`, '(a|aa)+$', '(.*a){20}'),
        )
        .map(([field, op, value]): CaseDraft => ({
          kind: 'pattern as a value',
          expect: 'accept',
          query: encodeParams([[op === 'eq' ? field.name : `${field.name}[${op}]`, value]]),
        })),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom('%', '%zz', 'a=%E0%A4%A', '%00=1', 'id=%00', 'sort=%00', '&&&', '=', '==', 'a[=1', 'id[in]=', 'id[prefix]=')
        .map((query): CaseDraft => ({ kind: 'odd encoding', expect: 'either', query })),
    },
    { weight: 6, arbitrary: fc.oneof(...refusals) },
  );
}
