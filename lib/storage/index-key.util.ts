import { createHash } from 'node:crypto';
import * as lmdb from 'lmdb';
import type { Key } from 'lmdb';
import type { IndexDefinition } from '../metadata/entity-definition.interface.js';

/** A value as it appears inside an ordered index key. */
export type KeyComponent = string | number | boolean;

/**
 * The key form of a missing value. Not `null`: lmdb's array keys cannot tell a run of nulls
 * from the zero bytes that separate elements, which loses elements and misplaces range
 * starts. `-Infinity` is never stored (numbers must be finite) and sorts before every
 * string and number, so a missing value sorts first (last in boolean fields).
 */
export const MISSING = -Infinity;

/** An index key or bound as lmdb's typings spell it. */
export type IndexKey = Key;

// Exported by lmdb at run time but missing from its typings.
const keyValueToBuffer = (lmdb as unknown as { keyValueToBuffer(key: unknown): Uint8Array }).keyValueToBuffer;

/**
 * LMDB keys are at most 1978 bytes. Every string component gets an equal share of a
 * budget below that, leaving room for the record id and array delimiters.
 */
const KEY_BUDGET_BYTES = 1700;
const HASH_MARK = '\u{10FFFF}';
const HASH_LENGTH = 22;

/**
 * Turns a stored field value into the component used in index keys and in sorting.
 * Strings longer than their share of the key budget are cut at a character boundary and
 * given a hash suffix, so equality stays exact. The order among strings that share the cut
 * part (a few hundred bytes), long or not, is unspecified.
 */
export function toKeyComponent(value: unknown, componentCount = 1): KeyComponent {
  if (value === undefined || value === null) return MISSING;
  // -0 and 0 are equal to every query, but lmdb would order -0 after every positive number.
  if (typeof value === 'number') return value === 0 ? 0 : value;
  if (typeof value === 'boolean') return value;
  const text = escapeLow(String(value));
  const budget = budgetOf(componentCount);
  if (text.length * 3 <= budget || Buffer.byteLength(text) <= budget) return text;
  const room = cutRoom(componentCount);
  let cut = '';
  let bytes = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > room) break;
    cut += char;
  }
  const digest = createHash('sha256').update(text).digest('base64url').slice(0, HASH_LENGTH);
  return `${cut}${HASH_MARK}${digest}`;
}

/**
 * ordered-binary escapes U+0000–U+0004 only in strings shorter than 64 units; longer ones go
 * out raw, and a zero byte there splits the array key. In those, every character up to U+0005
 * is written as U+0005 and a digit, which keeps their order and tells them apart. Short
 * strings, and long ones without such characters, are stored as they are.
 */
function escapeLow(text: string): string {
  if (text.length < 64 || !LOW.test(text)) return text;
  return text.replace(LOW_GLOBAL, (char) => `\u0005${String.fromCharCode(0x30 + char.charCodeAt(0))}`);
}

const LOW = /[\u0000-\u0005]/;
const LOW_GLOBAL = /[\u0000-\u0005]/g;

function budgetOf(componentCount: number): number {
  return Math.floor(KEY_BUDGET_BYTES / (componentCount + 1));
}

function cutRoom(componentCount: number): number {
  return budgetOf(componentCount) - HASH_LENGTH - 4;
}

/**
 * Whether a string can bound a key range exactly. A bound no longer than the part every cut
 * string keeps compares with each stored key as with the full value; a longer one is left
 * to the filter. So is one holding a character up to U+0005, which long stored strings hold
 * escaped (see `escapeLow`) and a short bound would not.
 */
export function boundsExactly(value: string, componentCount: number): boolean {
  if (LOW.test(value)) return false;
  return value.length * 3 <= cutRoom(componentCount) - 4 || Buffer.byteLength(value) <= cutRoom(componentCount) - 4;
}

/**
 * Below every index key. lmdb starts an open range at 0x05, past keys whose first element
 * is `null` (0x00), so every walk over an index passes this as its lowest bound.
 */
export const LOWEST_KEY: Buffer = Buffer.from([0]);

/** The index key of one record: `[...components of the index's fields, id]`. */
export function indexKeyOf(index: IndexDefinition, record: Readonly<Record<string, unknown>>, id: string): KeyComponent[] {
  const key: KeyComponent[] = index.fields.map((field) => toKeyComponent(record[field], index.fields.length));
  key.push(id);
  return key;
}

/** Whether two keys hold the same components: an unchanged key needs no write and no uniqueness lookup. */
export function sameKey(a: readonly KeyComponent[], b: readonly KeyComponent[]): boolean {
  return a.length === b.length && a.every((component, i) => component === b[i]);
}

/** The encoded bytes of a key, copied out of lmdb's shared encoding buffer. */
export function encodeKey(key: KeyComponent | readonly KeyComponent[]): Buffer {
  return Buffer.from(keyValueToBuffer(key));
}

/**
 * A key greater than every key that starts with `prefix` as whole array elements:
 * encoded arrays separate elements with a `\x00` byte, and no element's encoding begins
 * with `\xff`.
 */
export function afterPrefix(prefix: readonly KeyComponent[]): Buffer {
  return Buffer.concat([encodeKey(prefix), Buffer.from([0x00, 0xff])]);
}

/** A key greater than every key whose last element starts with the string at the end of `prefix`. */
export function afterStringPrefix(prefix: readonly KeyComponent[]): Buffer {
  return Buffer.concat([encodeKey(prefix), Buffer.from([0xff])]);
}
