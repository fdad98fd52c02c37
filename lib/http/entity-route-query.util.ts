import { BadRequestException } from '@nestjs/common';
import { isoDateOf } from '../common/date-value.util.js';
import { MAX_LIMIT } from '../common/page-limits.constants.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { HistoryPage } from '../storage/field-history.store.js';
import { ULID } from '../storage/ulid.util.js';

/** A past point of a record: its version N, or the time it was read as of. */
export type PastPointQuery = { version: number } | { asOf: string };

/** The query string of a request URL, without its `?`; empty without one. */
export function queryStringOf(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at + 1);
}

/** The query parameters of a request URL, none without a query string. */
export function searchOf(url: string): URLSearchParams {
  return new URLSearchParams(queryStringOf(url));
}

/**
 * Where a change stream starts: after `Last-Event-ID` (what a browser's EventSource sends when
 * it reconnects), else after `?after=`, else at the log's end.
 */
export function afterSeqOf(lastEventId: string | string[] | undefined, url: string): number | undefined {
  // Filters, sorts and pages are for lists: silently streaming everything would mislead.
  const search = onlyParameters(searchOf(url), ['after'], 'the change feed');
  const raw = typeof lastEventId === 'string' ? lastEventId : (search.get('after') ?? undefined);
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new BadRequestException('Last-Event-ID and after must be a seq: a whole number');
  return Number(raw);
}

/**
 * `?version=N` or `?asOf=<time>` of `GET /P/:id`, if either; both at once, or a malformed one, is
 * refused, as is a parameter other than those and `include`.
 */
export function pastPointQuery(url: string): PastPointQuery | undefined {
  const search = onlyParameters(searchOf(url), ['version', 'asOf', 'include'], 'a read of one record');
  const version = search.get('version');
  const asOf = search.get('asOf');
  if (version !== null && asOf !== null) throw new BadRequestException('give version or asOf, not both');
  if (version !== null) return { version: positiveInteger('version', version) };
  if (asOf === null) return undefined;
  const time = isoDateOf(asOf);
  if (time === undefined) throw new BadRequestException('asOf must be an ISO-8601 date');
  return { asOf: time };
}

/** `?from=N&to=M` of `GET /P/:id/diff`, either optional. */
export function diffQuery(url: string): { from?: number; to?: number } {
  const search = onlyParameters(searchOf(url), ['from', 'to'], 'the diff');
  const [from, to] = [search.get('from'), search.get('to')];
  return { ...(from !== null && { from: positiveInteger('from', from) }), ...(to !== null && { to: positiveInteger('to', to) }) };
}

/** A page of `GET /P/:id/audit`: `?limit=N` (default and most, {@link MAX_LIMIT}) and `?cursor=`, the `nextCursor` of the page before. */
export function auditPageQuery(url: string): { limit: number; cursor?: string } {
  const search = onlyParameters(searchOf(url), ['limit', 'cursor'], 'the audit trail');
  const [limit, cursor] = [search.get('limit'), search.get('cursor')];
  // A cursor is the id of the last entry of the page before: anything else is no cursor this route gave.
  if (cursor !== null && !ULID.test(cursor)) throw new BadRequestException('cursor must be the nextCursor of the page before');
  const page: { limit: number; cursor?: string } = { limit: limit === null ? MAX_LIMIT : pageLimit(limit) };
  if (cursor !== null) page.cursor = cursor;
  return page;
}

/**
 * A page of `GET /P/:id/history`: `?field=` one field's values only, `?limit=N` of each field's
 * newest (1 to {@link MAX_LIMIT}; all without it), `?before=V` those older than version V.
 */
export function historyPageQuery(url: string, definition: EntityDefinition): HistoryPage {
  const search = onlyParameters(searchOf(url), ['field', 'limit', 'before'], 'the history');
  const [field, limit, before] = [search.get('field'), search.get('limit'), search.get('before')];
  const page: HistoryPage = {};
  // Whether the caller may read its history is the repository's to say, in the same words;
  // an undeclared name stops here, before it makes a cache key.
  if (field !== null && !definition.fieldsByName.has(field)) throw new BadRequestException(`${definition.name} has no historized field ${field}`);
  if (field !== null) page.field = field;
  if (limit !== null) page.limit = pageLimit(limit);
  if (before !== null) page.before = positiveInteger('before', before);
  return page;
}

/**
 * `search`, once no parameter is unknown or repeated: a misspelt one (`?Purge=true`) would
 * otherwise be answered as if it were absent, and a repeated one by whichever came first.
 */
function onlyParameters(search: URLSearchParams, known: readonly string[], route: string): URLSearchParams {
  const seen = new Set<string>();
  for (const key of search.keys()) {
    if (!known.includes(key)) {
      throw new BadRequestException(`unknown query parameter ${key}: ${route} takes only ${known.join(' and ')}`);
    }
    if (seen.has(key)) throw new BadRequestException(`query parameter ${key} is repeated`);
    seen.add(key);
  }
  return search;
}

function pageLimit(raw: string): number {
  if (!/^[1-9]\d{0,3}$/.test(raw) || Number(raw) > MAX_LIMIT) throw new BadRequestException(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  return Number(raw);
}

/**
 * Whether a DELETE asks to purge (`?purge=true`); another value, or another parameter, is
 * refused. Without soft delete every delete is final, and a purge is one.
 */
export function purgeRequested(url: string): boolean {
  const value = onlyParameters(searchOf(url), ['purge'], 'a delete').get('purge');
  if (value === null || value === 'false') return false;
  if (value === 'true') return true;
  throw new BadRequestException('purge must be true or false');
}

function positiveInteger(name: string, raw: string): number {
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw new BadRequestException(`${name} must be a positive integer`);
  return Number(raw);
}
