import { isISO8601, length } from 'class-validator';
import fc from 'fast-check';
import type { EntityDefinition, FieldDefinition } from '../../../lib/index.js';
import { RawJson, type JsonText } from './json-text.util.js';

/**
 * Generators derived from an entity definition: the values, bodies and list queries a
 * well-behaved client may send (every one of them must be accepted), and the wrong-typed
 * values none may.
 */

/** Text that trips naive code: NUL, bidi controls, joiners, BOM, noncharacters, markup, paths, patterns. */
export const UNUSUAL_TEXT = [
  '\u0000',
  'a\u0000b',
  '\u0000\u0000',
  '\u202Eevil\u202C',
  '\u200F\u200E\u2066x\u2069',
  '😀',
  '👩‍👩‍👧‍👦',
  'e\u0301\u0301\u0301',
  '\uFEFFbom',
  '\uFFFF\uFFFE',
  '\u{10FFFF}',
  '\u{10FFFF}tail',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'Ω≈ç√∫',
  '\t\n\r\u000b\u000c',
  '\u0085\u2028\u2029',
  ' ',
  "'; DROP TABLE records; --",
  '${process.exit()}',
  '{{7*7}}',
  '../../etc/passwd',
  '%00%2e%2e',
  '\\',
  '"',
  '<script>alert(1)</script>',
  '.*',
  '^(a+)+$',
  '[',
  '(?<x>',
  `${'a'.repeat(64)}!`,
  '__proto__',
  'constructor',
  'hasOwnProperty',
];

/** Characters of every UTF-8 width, for strings past the index-key budget. */
const WIDE_CHARS = ['x', 'é', '漢', '😀', '\u0000'];

/** Calendar edge cases that are valid instants. */
const EDGE_DATES = ['2024-02-29T00:00:00.000Z', '1970-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '2000-01-01', '1999-12-31T23:59:59.999Z'];

export const INVALID_DATES = [
  '2026-13-01T00:00:00Z',
  '2026-02-30',
  '2026-02-29',
  '2026-00-10',
  '2026-01-32',
  '2026-01-01T24:00:01Z',
  '2026-01-01T23:60:00Z',
  '10000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  '-000001-01-01T00:00:00Z',
  '2026-01-01T00:00:00+25:00',
  '0000-00-00',
  'now',
  'yesterday',
  '',
  ' ',
  'Thu, 01 Jan 2026 00:00:00 GMT',
  'NaN',
  '2026-01-01T10:20:30,5Z',
  '2026-01-01T00:00:00ZZ',
];

const MIN_DATE = new Date('1000-01-01T00:00:00.000Z');
const MAX_DATE = new Date('9999-12-31T23:59:59.999Z');

function within(field: FieldDefinition, value: number): boolean {
  const { minimum, maximum } = field.constraints;
  return (minimum === undefined || value >= minimum) && (maximum === undefined || value <= maximum);
}

function fitsLength(field: FieldDefinition, value: string): boolean {
  return length(value, field.constraints.minLength ?? 0, field.constraints.maxLength ?? Number.MAX_SAFE_INTEGER);
}

/** Whether a string field takes values longer than an index key holds. */
export function takesLongText(field: FieldDefinition): boolean {
  return field.type === 'string' && field.constraints.enum === undefined && (field.constraints.maxLength ?? Infinity) > 2000;
}

/** A string past the index-key limit (1978 bytes), made of one character of any UTF-8 width. */
export const longText: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...WIDE_CHARS), fc.integer({ min: 500, max: 12_000 }), fc.string({ maxLength: 4 }))
  .map(([char, count, tail]) => char.repeat(count) + tail);

function stringValue(field: FieldDefinition, long = takesLongText(field)): fc.Arbitrary<string> {
  if (field.constraints.enum) return fc.constantFrom(...(field.constraints.enum as string[]));
  const maxLength = Math.min(field.constraints.maxLength ?? 80, 80);
  const minLength = field.constraints.minLength ?? 0;
  const unusual = fc.tuple(fc.constantFrom(...UNUSUAL_TEXT), fc.string({ maxLength: 3 })).map(([odd, tail]) => (odd + tail).padEnd(minLength, 'x'));
  return fc
    .oneof(
      fc.string({ unit: 'grapheme', minLength, maxLength }),
      fc.string({ unit: 'binary', minLength, maxLength }),
      fc.string({ unit: 'grapheme-ascii', minLength, maxLength }),
      unusual,
      ...(long ? [longText] : []),
    )
    .filter((value) => value.isWellFormed() && fitsLength(field, value));
}

function numberValue(field: FieldDefinition): fc.Arbitrary<JsonText> {
  const min = field.constraints.minimum ?? -Number.MAX_VALUE;
  const max = field.constraints.maximum ?? Number.MAX_VALUE;
  const safeMin = Math.max(Math.ceil(min), Number.MIN_SAFE_INTEGER);
  const safeMax = Math.min(Math.floor(max), Number.MAX_SAFE_INTEGER);
  // Spellings JSON allows that JSON.stringify never writes; the client means the value JSON.parse gives.
  const spelled = ['9007199254740993', '123456789012345678901234567890', '1e-400', '-0', '1E3', '0.1e1', '-0.0', '5e-324', '1.7976931348623157e308'];
  return fc.oneof(
    fc.integer({ min: safeMin, max: safeMax }),
    fc.double({ min, max, noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, -0, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 1e308, Number.MIN_VALUE).filter((value) => within(field, value)),
    fc.constantFrom(...spelled.filter((text) => within(field, JSON.parse(text) as number))).map((text) => new RawJson(text)),
  );
}

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** ISO-8601 spellings of one instant that class-validator's strict check and the package both take. */
const dateValue: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 5, arbitrary: fc.tuple(fc.date({ min: MIN_DATE, max: MAX_DATE, noInvalidDate: true }), fc.nat(4), fc.integer({ min: -14 * 60, max: 14 * 60 })) },
    { weight: 1, arbitrary: fc.constantFrom(...EDGE_DATES).map((text) => [new Date(text), -1, 0] as [Date, number, number]) },
  )
  .map(([date, style, offset]) => {
    const iso = date.toISOString();
    switch (style) {
      case 0:
        return iso.slice(0, 10);
      case 1:
        return `${iso.slice(0, 16)}Z`;
      case 2: {
        const local = new Date(date.getTime() + offset * 60_000).toISOString();
        return `${local.slice(0, 19)}${offsetText(offset)}`;
      }
      case 3:
        return `${iso.slice(0, 19)}.${String(date.getUTCMilliseconds()).padStart(3, '0')}000Z`;
      default:
        return iso;
    }
  })
  .filter((text) => isISO8601(text, { strict: true }) && Number.isFinite(Date.parse(text)) && Date.parse(text) <= MAX_DATE.getTime());

/** A value the field accepts. */
export function validValue(field: FieldDefinition): fc.Arbitrary<JsonText> {
  switch (field.type) {
    case 'string':
      return stringValue(field);
    case 'number':
      return numberValue(field);
    case 'boolean':
      return fc.boolean();
    case 'date':
      return dateValue;
  }
}

/** A value of the wrong JSON type (or a right type no parser may take as this field's). */
export function wrongTypeValue(field: FieldDefinition): fc.Arbitrary<JsonText> {
  const containers = fc.constantFrom<JsonText>({}, [], ['a'], { a: 'b' }, [[]]);
  switch (field.type) {
    case 'string':
      // Finite only: JSON has no NaN or Infinity, so they would be sent as null, which an optional field takes for absent.
      return fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), containers);
    case 'number':
      return fc.oneof(
        fc.integer().map(String),
        fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e3', '0x10', ''),
        fc.boolean(),
        containers,
        fc.constantFrom('1e400', '-1e400', '1e999999').map((text) => new RawJson(text)),
      );
    case 'boolean':
      return fc.oneof(fc.constantFrom<JsonText>('true', 'false', 1, 0, 'yes', ''), containers);
    case 'date':
      return fc.oneof(
        fc.constantFrom(...INVALID_DATES),
        fc.integer(),
        fc.boolean(),
        containers,
        fc.string().filter((text) => !isISO8601(text, { strict: true })),
      );
  }
}

/** Fields a body may carry: every field but the owner field, which the package stamps. */
export function writableFields(definition: EntityDefinition): FieldDefinition[] {
  return definition.fields.filter((field) => field.name !== definition.permissions?.owner);
}

/**
 * A valid create body: required fields present, optional ones maybe, maybe `null`. For a
 * replace, `withImmutable: false` leaves immutable fields out; the runner sends their
 * stored values, the only ones a replace may hold.
 */
export function createBody(definition: EntityDefinition, withImmutable = true): fc.Arbitrary<Record<string, JsonText>> {
  const fields = writableFields(definition).filter((field) => withImmutable || !field.immutable);
  const model = Object.fromEntries(
    fields.map((field) => [field.name, field.required && field.default === undefined ? validValue(field) : fc.option(validValue(field), { freq: 4 })]),
  );
  const required = fields.filter((field) => field.required && field.default === undefined).map((field) => field.name);
  return fc.record(model, { requiredKeys: required }).map((body) => body as Record<string, JsonText>);
}

/** A valid PATCH body: any mutable fields, `null` clearing optional ones. */
export function updateBody(definition: EntityDefinition): fc.Arbitrary<Record<string, JsonText>> {
  const fields = writableFields(definition).filter((field) => !field.immutable);
  const model = Object.fromEntries(fields.map((field) => [field.name, field.required ? validValue(field) : fc.option(validValue(field), { freq: 4 })]));
  return fc.record(model, { requiredKeys: [] }).map((body) => body as Record<string, JsonText>);
}

/** Operators that apply to a field type. */
export function operatorsFor(field: FieldDefinition): string[] {
  return field.type === 'string' ? ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'prefix'] : ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in'];
}

/** A value as a query string carries it. */
export function queryText(field: FieldDefinition): fc.Arbitrary<string> {
  switch (field.type) {
    case 'string':
      // Short enough that a query of several clauses stays under Node's 16 KiB request head.
      return stringValue({ ...field, constraints: {} }, false).filter((text) => !text.includes(','));
    case 'number':
      return fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })).map(String);
    case 'boolean':
      return fc.boolean().map(String);
    case 'date':
      return dateValue;
  }
}

/** Fields a list query may name: visible fields and the managed ones. */
export function filterableFields(definition: EntityDefinition): FieldDefinition[] {
  const managed: FieldDefinition[] = (['id', 'version', 'createdAt', 'updatedAt'] as const).map((name) => ({
    name,
    type: name === 'version' ? 'number' : name === 'id' ? 'string' : 'date',
    required: true,
    immutable: true,
    hidden: false,
    history: 'never',
    constraints: {},
  }));
  return [...definition.fields.filter((field) => !field.hidden && field.permission?.read === undefined), ...managed];
}

/** One valid filter clause as `[key, value]` of a query string. */
export function validClause(definition: EntityDefinition): fc.Arbitrary<[string, string]> {
  return fc.constantFrom(...filterableFields(definition)).chain((field) =>
    fc.constantFrom(...operatorsFor(field)).chain((op) => {
      const key = op === 'eq' ? field.name : `${field.name}[${op}]`;
      if (op === 'in') return fc.array(queryText(field), { minLength: 1, maxLength: 5 }).map((values) => [key, values.join(',')] as [string, string]);
      if (op === 'prefix')
        return queryText(field)
          .filter((text) => text.length > 0)
          .map((text) => [key, text] as [string, string]);
      return queryText(field).map((text) => [key, text] as [string, string]);
    }),
  );
}

/** A valid list query: filters on distinct keys, maybe a sort, maybe a limit. */
export function validListQuery(definition: EntityDefinition): fc.Arbitrary<{ params: [string, string][]; sort: string }> {
  const sortable = filterableFields(definition).map((field) => field.name);
  return fc
    .record({
      clauses: fc.uniqueArray(validClause(definition), { maxLength: 4, selector: ([key]) => key }),
      sort: fc.option(
        fc.tuple(fc.boolean(), fc.constantFrom(...sortable)).map(([descending, field]) => `${descending ? '-' : ''}${field}`),
        { nil: undefined },
      ),
      limit: fc.option(fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 50 }) }, { weight: 1, arbitrary: fc.constant(1000) }), { nil: undefined }),
    })
    .map(({ clauses, sort, limit }) => ({
      params: [
        ...clauses,
        ...(sort === undefined ? [] : [['sort', sort] as [string, string]]),
        ...(limit === undefined ? [] : [['limit', String(limit)] as [string, string]]),
      ],
      sort: sort ?? 'id',
    }));
}
