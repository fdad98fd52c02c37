import { BadRequestException } from '@nestjs/common';
import type { NoneMatch, WriteContext } from '../storage/write-context.interface.js';
import type { HttpRequest } from './request-meta.util.js';

// No leading zero: compared strongly, `"01"` is not the ETag `"1"` this package sends.
const STRONG_VERSION = /^(?:"([1-9]\d{0,14})"|([1-9]\d{0,14}))$/;

/**
 * The version an `If-Match` header demands: `"3"` (the ETag this package sends), or `3`.
 * An absent header and `*` demand none (`*` only asks for a current record, which every
 * route on an `:id` needs anyway). An empty header, a weak ETag and a list get 400.
 */
export function expectedVersionOf(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header.join(',') : header).trim();
  if (value === '*') return undefined;
  // Refused rather than read as no header: a client that sends one means a precondition, and
  // writing without it would be the lost update it asked to prevent.
  if (value === '' || value === '""') throw new BadRequestException('If-Match is empty: send the ETag of the version you read, such as "3"');
  // RFC 9110 13.1.1: If-Match compares strongly, so a weak tag never matches. Said plainly
  // rather than answered 412 on every try.
  if (value.startsWith('W/')) {
    throw new BadRequestException('If-Match names a weak ETag, which cannot guard a write (RFC 9110, 13.1.1): send the strong ETag, such as "3"');
  }
  const match = STRONG_VERSION.exec(value);
  if (!match) throw new BadRequestException('If-Match must be one ETag such as "3"');
  return Number(match[1] ?? match[2]);
}

/**
 * Whether an `If-None-Match` header names the ETag of `version`, so a read can answer 304: `*`,
 * or a list of ETags compared weakly (RFC 9110 13.1.2: `W/"3"` matches `"3"`). A header that
 * cannot be read matches nothing, and the record is sent.
 */
export function noneMatchHolds(header: string | string[] | undefined, version: number): boolean {
  if (header === undefined) return false;
  const tags = noneMatchTagsOf(header);
  const tag = etagOf(version);
  return tags === '*' || (tags?.some((item) => item === tag || item === `W/${tag}`) ?? false);
}

// One element of an ETag list (RFC 9110 8.8.3, 5.6.1): an entity tag, weak or not, or nothing
// (empty elements are ignored), then a comma or the end. Tags may hold commas.
const LIST_ELEMENT = /^\s*(?:((?:W\/)?"[\x21\x23-\x7e\x80-\xff]*")\s*)?(?:,|$)/;
const VERSION_TAG = /^(?:W\/)?"([1-9]\d{0,14})"$/;

/**
 * The versions an `If-None-Match` header on a write names, which the write must not find the
 * record at (RFC 9110 13.1.2: a write whose `If-None-Match` matches fails with 412): `'*'` for
 * any, else the versions of its ETags, compared weakly. Tags this package never sends match
 * nothing. A header that is not `*` or a list of ETags gets 400 rather than being ignored: a
 * client that sends one means a precondition.
 */
export function noneMatchOf(header: string | string[] | undefined): NoneMatch | undefined {
  if (header === undefined) return undefined;
  const tags = noneMatchTagsOf(header);
  if (tags === '*') return '*';
  if (!tags || tags.length === 0) throw new BadRequestException('If-None-Match must be * or a list of ETags such as "3"');
  const versions = new Set<number>();
  for (const tag of tags) {
    const version = VERSION_TAG.exec(tag);
    if (version) versions.add(Number(version[1]));
  }
  return versions;
}

/** An `If-None-Match` header as read: `'*'`, or its entity tags; `undefined` when it is neither. */
function noneMatchTagsOf(header: string | string[]): '*' | string[] | undefined {
  const value = Array.isArray(header) ? header.join(',') : header;
  return value.trim() === '*' ? '*' : entityTagsOf(value);
}

/** The entity tags of a list, in order; `undefined` when it is not one. */
function entityTagsOf(value: string): string[] | undefined {
  const tags: string[] = [];
  let rest = value;
  while (rest.length > 0) {
    const element = LIST_ELEMENT.exec(rest);
    if (!element || element[0].length === 0) return undefined;
    if (element[1]) tags.push(element[1]);
    rest = rest.slice(element[0].length);
  }
  return tags;
}

/** The preconditions of a write on one record: the version its `If-Match` expects, the ones its `If-None-Match` refuses. */
export function writeConditionsOf(headers: HttpRequest['headers']): Pick<WriteContext, 'expectedVersion' | 'noneMatch'> {
  return { expectedVersion: expectedVersionOf(headers['if-match']), noneMatch: noneMatchOf(headers['if-none-match']) };
}

/** The ETag of a record version. */
export function etagOf(version: number): string {
  return `"${version}"`;
}
