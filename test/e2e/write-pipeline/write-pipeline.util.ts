import type { Type } from '@nestjs/common';
import request from 'supertest';
import { type EntitiesModuleOptions, type Principal } from '../../../lib/index.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createTestApp, type Platform, type TestApp } from '../../support/test-app.util.js';

/** The principal of a request: `{ id }` from the `X-User` header, anonymous without it. */
export function principalFromUserHeader(req: { headers: Record<string, string | string[] | undefined> }): Principal | undefined {
  const user = req.headers['x-user'];
  return typeof user === 'string' && user !== '' ? { id: user } : undefined;
}

/**
 * Boots an app on its own temp dir with these entities and `X-User` as the principal,
 * runs `fn` against it, and closes it whatever happens.
 */
export async function withApp(
  platform: Platform,
  entities: Type<object>[],
  fn: (t: TestApp) => Promise<void>,
  module: Partial<EntitiesModuleOptions> = {},
): Promise<void> {
  const t = await createTestApp({ entities, platform, module: { getPrincipal: principalFromUserHeader, ...module } });
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

/** A supertest agent bound to the app. */
export function api(t: TestApp): ReturnType<typeof request> {
  return request(t.server() as Parameters<typeof request>[0]);
}

/** The storage of the app (event log, maintenance). */
export function storageOf(t: TestApp): EntityStorage {
  return t.app.get(EntityStorage);
}

/** Every record of `GET /path`, following the cursors. */
export async function listAll(t: TestApp, path: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let cursor: string | null = null;
  do {
    const response = await api(t)
      .get(path)
      .query({ limit: 1000, ...(cursor !== null && { cursor }) });
    expect(response.status).toBe(200);
    items.push(...response.body.items);
    cursor = response.body.nextCursor;
  } while (cursor !== null);
  return items;
}

/** The error message of a Nest error body as one string. */
export function messageOf(body: { message?: unknown }): string {
  return Array.isArray(body.message) ? body.message.join('\n') : String(body.message);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** ISO-8601 as `Date.prototype.toISOString` writes it. */
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** An id of the right shape that no record ever had. */
export const NEVER_USED_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
