/**
 * JSON text written by hand, so a body can hold what `JSON.stringify` never writes:
 * `NaN`, `1e400`, lone-surrogate escapes, integers past 2^53 as typed, and `__proto__`
 * as an own key (a JS object literal would set the prototype instead).
 */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A body value: plain JSON values, with `RawJson` pieces emitted verbatim. */
export type JsonText = RawJson | null | boolean | number | string | readonly JsonText[] | { readonly [key: string]: JsonText };

export function jsonText(value: JsonText): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, JsonText>)
      .map(([key, item]) => `${JSON.stringify(key)}:${jsonText(item)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** An object with `key` as an own property, `__proto__` included. */
export function withKey(object: { readonly [key: string]: JsonText }, key: string, value: JsonText): { [key: string]: JsonText } {
  const copy: { [key: string]: JsonText } = { ...object };
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** `{"a":{"a":...1...}}` (or arrays) nested `depth` levels, written without recursion. */
export function nested(depth: number, kind: 'object' | 'array'): RawJson {
  return kind === 'object' ? new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) : new RawJson(`${'['.repeat(depth)}1${']'.repeat(depth)}`);
}

/** A value carrying `key` (a prototype-reaching name) `depth` levels down, inside objects and arrays. */
export function buriedKey(key: string, depth: number, payload: JsonText): JsonText {
  let value: JsonText = withKey({}, key, payload);
  for (let level = 0; level < depth; level++) value = level % 2 === 0 ? { inner: value } : [value];
  return value;
}
