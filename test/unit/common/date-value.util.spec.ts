import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadRequestException } from '@nestjs/common';
import ts from 'typescript';
import { isoDateOf, storableTimeOf } from '../../../lib/common/date-value.util.js';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { parseListQuery } from '../../../lib/http/list-query.util.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { InvalidQueryException } from '../../../lib/query/invalid-query.exception.js';
import { normalizeQuery } from '../../../lib/query/query-clause.util.js';
import { normalizeRecordInput } from '../../../lib/storage/record-input.util.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

@Entity('permits')
class Permit {
  @Field() issuedOn!: Date;
}

const definition = createEntityDefinition(Permit);

/** Every path that reads a date value, each answering the stored form or throwing its own error. */
const paths: Record<string, (value: string) => unknown> = {
  'the list route': (value) => (parseListQuery(definition, `/permits?issuedOn=${encodeURIComponent(value)}`).where!.issuedOn! as { eq: unknown }).eq,
  find: (value) => normalizeQuery(definition, { where: { issuedOn: value } }).clauses[0]!.value,
  'a write': (value) => {
    const { data, problems } = normalizeRecordInput(definition, { issuedOn: value }, 'create');
    if (problems.length > 0) throw new Error(problems.join('; '));
    return data.issuedOn;
  },
};

const REFUSED = [
  '2024-01-01 10:00',
  'Jan 1 2024',
  'Thu, 01 Jan 2026 00:00:00 GMT',
  '2024',
  '2024-01',
  '20240101',
  '2024-01-01T10',
  '2024-01-01T10:00+01',
  '2024-02-30',
  '2023-02-29',
  '2024-13-01',
  '2024-01-01T24:00',
  '2024-01-01T23:60',
  '2024-01-01T10:00:60Z',
  '2024-01-01T10:00+25:00',
  '10000-01-01',
  '+010000-01-01T00:00:00.000Z',
  '-000001-01-01T00:00:00.000Z',
  '0000-01-01T00:00+00:01',
  '9999-12-31T23:59:59.999-00:01',
  '',
];

describe('the date rule', () => {
  it('reads a date-time without an offset as UTC on every path', () => {
    expect(isoDateOf('2024-01-01T10:00')).toBe('2024-01-01T10:00:00.000Z');
    expect(isoDateOf('2024-07-01T10:00:30.5')).toBe('2024-07-01T10:00:30.500Z');
    expect(isoDateOf('2024-01-01')).toBe('2024-01-01T00:00:00.000Z');
    for (const read of Object.values(paths)) expect(read('2024-01-01T10:00')).toBe('2024-01-01T10:00:00.000Z');
  });

  // Jest hands the test a copy of process.env, so the TZ can only change in another process;
  // under TZ=UTC (most CI machines) reading local time would pass the test above.
  it.each(['America/New_York', 'Asia/Kolkata', 'Pacific/Kiritimati'])('reads it as UTC whatever the TZ: %s', (tz) => {
    const source = ts.transpileModule(readFileSync(join(ROOT, 'lib/common/date-value.util.ts'), 'utf8'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
    }).outputText;
    const check = `${source}\nconsole.log(new Date(2024, 0, 1, 10).toISOString(), isoDateOf('2024-01-01T10:00'), isoDateOf('2024-07-01T00:00:00'));`;
    const [local, ...read] = execFileSync(process.execPath, ['--input-type=module', '-e', check], { env: { ...process.env, TZ: tz }, encoding: 'utf8' })
      .trim()
      .split(' ');
    expect(local).not.toBe('2024-01-01T10:00:00.000Z');
    expect(read).toEqual(['2024-01-01T10:00:00.000Z', '2024-07-01T00:00:00.000Z']);
  });

  it('reads offsets, fractions, Dates and the years 0000 to 9999', () => {
    expect(isoDateOf('2024-01-01T10:00+01:00')).toBe('2024-01-01T09:00:00.000Z');
    expect(isoDateOf('2024-01-01T10:00-0130')).toBe('2024-01-01T11:30:00.000Z');
    expect(isoDateOf('2024-01-01T10:00:00.123456789Z')).toBe('2024-01-01T10:00:00.123Z');
    // RFC 3339, which OpenAPI's date-time names: `t` and `z` in either case, any number of fraction digits.
    expect(isoDateOf('2024-01-01t10:00:00z')).toBe('2024-01-01T10:00:00.000Z');
    expect(isoDateOf('2024-01-01T10:00:00.1234567891Z')).toBe('2024-01-01T10:00:00.123Z');
    expect(isoDateOf('2024-02-29')).toBe('2024-02-29T00:00:00.000Z');
    expect(isoDateOf('0000-01-01')).toBe('0000-01-01T00:00:00.000Z');
    expect(isoDateOf('0050-06-15T12:00')).toBe('0050-06-15T12:00:00.000Z');
    expect(isoDateOf('9999-12-31T23:59:59.999Z')).toBe('9999-12-31T23:59:59.999Z');
    expect(isoDateOf(new Date('2024-01-01T10:00:00Z'))).toBe('2024-01-01T10:00:00.000Z');
    expect(storableTimeOf('1970-01-01T00:00Z')).toBe(0);
  });

  it('refuses the same values on every path', () => {
    for (const value of REFUSED) {
      expect(storableTimeOf(value)).toBeUndefined();
      expect(() => paths['the list route']!(value)).toThrow(BadRequestException);
      expect(() => paths['find']!(value)).toThrow(InvalidQueryException);
      expect(() => paths['a write']!(value)).toThrow('issuedOn must be a valid ISO 8601 date');
    }
  });

  it('refuses dates outside the years 0000 to 9999, and what is no date', () => {
    const beyond = new Date(Date.UTC(10000, 0, 1));
    const before = new Date(Date.UTC(-1, 11, 31));
    for (const value of [beyond, before, new Date(NaN), 0, null, undefined, {}]) expect(storableTimeOf(value)).toBeUndefined();
    expect(() => normalizeQuery(definition, { where: { issuedOn: beyond } })).toThrow(InvalidQueryException);
    expect(normalizeRecordInput(definition, { issuedOn: before }, 'create').problems).toEqual(['issuedOn must be a valid ISO 8601 date']);
  });
});
