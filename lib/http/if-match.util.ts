import { BadRequestException } from '@nestjs/common';

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
  const tag = etagOf(version);
  for (const item of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const value = item.trim();
    if (value === '*' || value === tag || value === `W/${tag}`) return true;
  }
  return false;
}

/** The ETag of a record version. */
export function etagOf(version: number): string {
  return `"${version}"`;
}
