import fc from 'fast-check';
import type { EntityDefinition } from '../../../lib/index.js';
import { UNUSUAL_TEXT, validValue, writableFields, wrongTypeValue } from './definition-arbitraries.util.js';
import { buriedKey, jsonText, nested, RawJson, withKey, type JsonText } from './json-text.util.js';

/** What the server must do with a request: take it, refuse it (4xx), or either (then it must be consistent). */
export type Expectation = 'accept' | 'refuse' | 'either';

/** A body as sent: JSON (maybe with raw pieces), or bytes that are not JSON at all. */
export interface BodyVariant {
  kind: string;
  expect: Expectation;
  body?: JsonText;
  /** Sent instead of `body` when set. */
  bytes?: Buffer;
  contentType?: string;
  /** When refused, the only statuses allowed. */
  statuses?: number[];
  /** When refused, text the message must hold. */
  mentions?: string;
}

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'];
const POLLUTION = fc.constantFrom<JsonText>({ polluted: 'yes' }, { prototype: { polluted: 'yes' } }, 'yes', [{ polluted: 'yes' }]);
/** Names that exist on every object's prototype chain: a body must never reach them either. */
const INHERITED_NAMES = ['toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', '__lookupSetter__', 'toJSON'];
const ONE_MIB = 1024 * 1024;

/** Garbage for server-owned fields: the package must ignore every one of them. */
const MANAGED_VALUES: Record<string, fc.Arbitrary<JsonText>> = {
  id: fc.constantFrom<JsonText>('01ARZ3NDEKTSV4RRFFQ69G5FAV', '', '../x', 42, { $ne: null }, 'x'.repeat(3000)),
  version: fc.constantFrom<JsonText>(0, -1, 999_999, '2', 1.5, null, new RawJson('1e400')),
  createdAt: fc.constantFrom<JsonText>('2000-01-01T00:00:00.000Z', 'yesterday', 0, null),
  updatedAt: fc.constantFrom<JsonText>('2099-01-01T00:00:00.000Z', '', {}, true),
};

/** Unknown property names: anything but a field, a managed name, or a prototype key (tested on its own). */
function unknownKey(definition: EntityDefinition): fc.Arbitrary<string> {
  const taken = new Set([...definition.fields.map((field) => field.name), 'id', 'version', 'createdAt', 'updatedAt', ...PROTOTYPE_KEYS]);
  return fc.oneof(fc.string({ minLength: 1, maxLength: 24 }), fc.constantFrom(...INHERITED_NAMES, ...UNUSUAL_TEXT)).filter((key) => !taken.has(key));
}

/**
 * Mutations of a valid object body `valid` for `definition`: each variant says whether
 * the server must take it or refuse it, and how.
 */
export function objectBodyVariants(definition: EntityDefinition, valid: fc.Arbitrary<Record<string, JsonText>>): fc.Arbitrary<BodyVariant> {
  const fields = writableFields(definition);
  const stringFields = fields.filter((field) => field.type === 'string');
  const anyField = fc.constantFrom(...fields);
  const owner = definition.permissions?.owner;
  const variants: { weight: number; arbitrary: fc.Arbitrary<BodyVariant> }[] = [
    { weight: 14, arbitrary: valid.map((body) => ({ kind: 'valid', expect: 'accept', body })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(valid, fc.record(MANAGED_VALUES, { requiredKeys: [] }))
        .map(([body, managed]) => ({ kind: 'server-owned fields', expect: 'accept', body: { ...body, ...(managed as Record<string, JsonText>) } })),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(valid, unknownKey(definition), fc.string()).map(([body, key, value]) => ({
        kind: 'unknown property',
        expect: 'refuse',
        body: withKey(body, key, value),
        statuses: [400],
        mentions: key,
      })),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(valid, fc.constantFrom(...PROTOTYPE_KEYS), fc.nat(40), POLLUTION, fc.option(anyField, { nil: undefined }))
        .map(([body, key, depth, payload, field]) => ({
          kind: `${key} key`,
          expect: 'refuse',
          body: field === undefined && depth === 0 ? withKey(body, key, payload) : withKey(body, field?.name ?? 'extra', buriedKey(key, depth, payload)),
          statuses: [400],
        })),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(valid, anyField)
        .chain(([body, field]) =>
          wrongTypeValue(field).map((value) => ({ kind: `wrong type for ${field.type}`, expect: 'refuse' as const, body: { ...body, [field.name]: value } })),
        ),
    },
    ...(stringFields.length === 0
      ? []
      : [
          {
            weight: 2,
            arbitrary: fc
              .tuple(valid, fc.constantFrom(...stringFields), fc.constantFrom('\\ud800', 'x\\udfff', '\\udbff\\udbff', 'ok\\ud83d'))
              .map(([body, field, escaped]) => ({
                kind: 'lone surrogate',
                expect: 'refuse' as const,
                body: { ...body, [field.name]: new RawJson(`"${escaped}"`) },
              })),
          },
        ]),
    {
      weight: 2,
      arbitrary: fc
        .tuple(valid, anyField, fc.integer({ min: 20, max: 5_000 }), fc.constantFrom('object' as const, 'array' as const))
        .map(([body, field, depth, kind]) => ({ kind: 'deep nesting', expect: 'refuse', body: { ...body, [field.name]: nested(depth, kind) } })),
    },
    {
      weight: 1,
      // Mostly small; now and then as many elements as the body limit holds (2 bytes each).
      arbitrary: fc
        .tuple(
          valid,
          anyField,
          fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1000, max: 20_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 300_000, max: 500_000 }) }),
        )
        .map(([body, field, count]) => ({
          kind: 'huge array',
          expect: 'refuse',
          body: { ...body, [field.name]: new RawJson(`[${'1,'.repeat(count)}1]`) },
        })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.integer({ min: 1, max: 64 * 1024 })).map(([body, extra]) => ({
        kind: 'body over the limit',
        expect: 'refuse',
        body: { ...body, padding: 'x'.repeat(ONE_MIB + extra) },
        statuses: [413],
      })),
    },
    { weight: 3, arbitrary: fc.tuple(valid, fc.nat(), fc.nat(5)).map(([body, at, how]) => malformed(body, at, how)) },
    {
      weight: 2,
      arbitrary: fc.tuple(valid, fc.constantFrom<JsonText>([], 'text', 1, null, true, [{}])).map(([body, top]) => ({
        kind: 'not an object',
        expect: 'refuse',
        body: Array.isArray(top) && top.length === 1 ? [body] : top,
      })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(valid, fc.constantFrom('text/plain', '', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml'))
        .map(([body, contentType]) => ({ kind: `content-type ${contentType || 'missing'}`, expect: 'refuse', body, contentType })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          valid,
          fc.constantFrom(
            'application/json; charset=utf-8',
            'application/json; charset=latin1',
            'application/json; charset=utf-16',
            'APPLICATION/JSON',
            'application/vnd.api+json',
          ),
        )
        .map(([body, contentType]) => ({ kind: `content-type ${contentType}`, expect: 'either', body, contentType })),
    },
    ...(stringFields.length === 0
      ? []
      : [
          {
            weight: 1,
            arbitrary: fc
              .tuple(valid, fc.constantFrom(...stringFields), fc.constantFrom('ff', 'c0af', 'eda080', 'f4908080', 'e282'))
              .map(([body, field, hex]) => {
                const marker = 'INVALID_UTF8_BYTES';
                const text = jsonText({ ...body, [field.name]: marker });
                const [head, tail] = text.split(`"${marker}"`);
                return {
                  kind: 'invalid UTF-8',
                  expect: 'either' as const,
                  bytes: Buffer.concat([Buffer.from(`${head}"`), Buffer.from(hex, 'hex'), Buffer.from(`"${tail}`)]),
                };
              }),
          },
        ]),
  ];
  if (owner !== undefined) {
    variants.push({
      weight: 2,
      arbitrary: fc
        .tuple(valid, fc.string())
        .map(([body, value]) => ({ kind: 'owner field', expect: 'refuse', body: { ...body, [owner]: value }, statuses: [400] })),
    });
  }
  for (const field of fields.filter((candidate) => candidate.type === 'number' || candidate.type === 'date')) {
    variants.push({
      weight: 1,
      arbitrary: fc
        .tuple(valid, validValue(field))
        .map(([body, value]) => ({ kind: `edge ${field.type}`, expect: 'accept', body: { ...body, [field.name]: value } })),
    });
  }
  return fc.oneof(...variants);
}

/** A valid body made invalid JSON: cut short, trailing junk, a token JSON has no room for. */
function malformed(body: Record<string, JsonText>, at: number, how: number): BodyVariant {
  const text = jsonText(body);
  const tokens = ['NaN', 'Infinity', '-Infinity', 'undefined', '0x10', '+1', '.5', '01', "'single'", '/*c*/1'];
  const broken = [
    () => text.slice(0, 1 + (at % (text.length - 1))),
    () => `${text},`,
    () => `x${text}`,
    () => (text.includes(':') ? text.replace(':', '=') : `${text}}`),
    () => `{"${Object.keys(body)[0] ?? 'a'}":${tokens[at % tokens.length]}}`,
    () => `${text}${text}`,
  ][how]!();
  return { kind: 'malformed JSON', expect: 'refuse', bytes: Buffer.from(broken), statuses: [400] };
}
