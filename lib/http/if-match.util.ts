import { BadRequestException } from '@nestjs/common';

/**
 * The version an `If-Match` header demands: `"3"` (the ETag this package sends), `W/"3"`
 * or `3`. `*` and an absent header demand none.
 */
export function expectedVersionOf(header: string | string[] | undefined): number | undefined {
  if (header === undefined || header === '' || header === '*') return undefined;
  const value = Array.isArray(header) ? header.join(',') : header;
  const match = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(value);
  if (!match) throw new BadRequestException('If-Match must be one ETag such as "3"');
  return Number(match[1]);
}

/** The ETag of a record version. */
export function etagOf(version: number): string {
  return `"${version}"`;
}
