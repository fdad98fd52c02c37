import { ulid } from 'ulid';
import type { Principal } from '../../../lib/index.js';
import type { TestApp } from '../../support/test-app.util.js';
import { asPrincipal, http, type HttpResponse } from '../support/e2e.util.js';

/** Request headers carrying a principal (none for an anonymous request). */
export type PrincipalHeaders = Record<string, string>;

/** The headers of a request made by `principal`, or of an anonymous one. */
export function as(principal: Principal | undefined): PrincipalHeaders {
  return principal === undefined ? {} : asPrincipal(principal);
}

/** An id in the package's format that no record of any test has. */
export function missingId(): string {
  return ulid();
}

/** `GET path?query` as `headers`, following `nextCursor` to the end; the items of every page, and the pages. */
export async function walkAs(
  t: TestApp,
  path: string,
  headers: PrincipalHeaders,
  query: Record<string, string>,
): Promise<{ items: Array<Record<string, unknown>>; cursors: string[]; pages: number }> {
  const items: Array<Record<string, unknown>> = [];
  const cursors: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const params = new URLSearchParams(query);
    if (cursor !== null) params.set('cursor', cursor);
    const response: HttpResponse = await http(t).get(`${path}?${params.toString()}`).set(headers);
    expect({ page: pages + 1, status: response.status }).toEqual({ page: pages + 1, status: 200 });
    pages += 1;
    items.push(...(response.body.items as Array<Record<string, unknown>>));
    cursor = response.body.nextCursor as string | null;
    if (cursor !== null) cursors.push(cursor);
    if (pages > 200) throw new Error(`the cursor walk of ${path} does not end`);
  } while (cursor !== null);
  return { items, cursors, pages };
}

/** Both readings of an opaque cursor a client could try: base64url and base64. */
export function decodedCursor(cursor: string): string[] {
  return [Buffer.from(cursor, 'base64url').toString('latin1'), Buffer.from(cursor, 'base64').toString('latin1'), cursor];
}
