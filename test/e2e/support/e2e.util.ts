import request from 'supertest';
import type { Principal } from '../../../lib/index.js';
import type { TestApp } from '../../support/test-app.util.js';

/** A supertest agent bound to a test app's HTTP server. */
export function http(t: TestApp): ReturnType<typeof request> {
  return request(t.server());
}

/** The parts of a supertest response these specs read. */
export interface HttpResponse {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Asserts an error answer with the given status: `statusCode` equal to it and a `message`
 * (a string, or Nest's array of validation problems). Returns the message as one string.
 */
export function expectErrorStatus(response: HttpResponse, status: number): string {
  expect({ status: response.status, body: response.body }).toEqual({
    status,
    body: expect.objectContaining({ statusCode: status }),
  });
  const message: unknown = response.body.message;
  if (Array.isArray(message)) {
    expect(message.length).toBeGreaterThan(0);
    for (const item of message) expect(typeof item).toBe('string');
    return message.join('\n');
  }
  expect(typeof message).toBe('string');
  return message as string;
}

/**
 * Asserts Nest's full error shape `{ statusCode, message, error }` (API.md: "Errors use
 * Nest's shape") with the given status; returns the message as one string.
 */
export function expectNestError(response: HttpResponse, status: number): string {
  const message = expectErrorStatus(response, status);
  expect(response.body).toEqual(expect.objectContaining({ statusCode: status, message: response.body.message, error: expect.any(String) }));
  return message;
}

/** The messages of an error response as a list. */
export function messagesOf(response: HttpResponse): string[] {
  const message: unknown = response.body.message;
  return Array.isArray(message) ? (message as string[]) : [String(message)];
}

/** ISO-8601 as the package writes it (`Date.prototype.toISOString`). */
export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Header the permission specs use to carry a principal as JSON. */
export const PRINCIPAL_HEADER = 'x-test-principal';

/** Encodes a principal for `PRINCIPAL_HEADER`. */
export function asPrincipal(principal: Principal): Record<string, string> {
  return { [PRINCIPAL_HEADER]: JSON.stringify(principal) };
}

/**
 * An asynchronous `getPrincipal` that reads `PRINCIPAL_HEADER` (absent: anonymous),
 * resolving on a later tick so the package must await it.
 */
export async function principalFromHeader(req: { headers: Record<string, string | string[] | undefined> }): Promise<Principal | undefined> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  const header = req.headers[PRINCIPAL_HEADER];
  if (typeof header !== 'string' || header === '') return undefined;
  return JSON.parse(header) as Principal;
}

let counter = 0;

/** A value no other test of this process uses. */
export function unique(prefix = 'v'): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

/** Reads every page of `GET path?query` with cursors; returns the items in order and the number of pages. */
export async function walkPages(
  t: TestApp,
  path: string,
  query: Record<string, string>,
  between?: (page: number, items: any[]) => Promise<void>,
): Promise<{ items: any[]; pages: number }> {
  const items: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const params = new URLSearchParams(query);
    if (cursor !== null) params.set('cursor', cursor);
    const response = await http(t).get(`${path}?${params.toString()}`);
    expect(response.status).toBe(200);
    pages += 1;
    items.push(...(response.body.items as any[]));
    cursor = response.body.nextCursor as string | null;
    if (cursor !== null) expect(typeof cursor).toBe('string');
    if (pages > 1000) throw new Error('the cursor walk does not end');
    if (between && cursor !== null) await between(pages, response.body.items as any[]);
  } while (cursor !== null);
  return { items, pages };
}
