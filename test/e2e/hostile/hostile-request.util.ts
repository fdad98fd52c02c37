import { ulid } from 'ulid';
import type { EntityDefinition } from '../../../lib/index.js';
import type { Expectation } from './body-mutations.util.js';
import type { HostileCase, Target } from './hostile-case.interface.js';
import { jsonText, RawJson, withKey, type JsonText } from './json-text.util.js';

/** The principal cases act as unless they say otherwise: holds `*`. */
export const ADMIN_USER = 'root:admin';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

type Data = Record<string, unknown>;

/** What a run knows of one entity: records alive and deleted, and cursors it was given. */
export interface Pool {
  live: string[];
  deleted: string[];
  cursors: { query: string; sort: string; cursor: string }[];
}

/** A case's target as it stands when the case runs. */
export interface Aim {
  state: 'none' | 'live' | 'deleted' | 'missing' | 'garbage';
  id?: string;
  segment: string;
}

export interface SentRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** Where a target points now: records are created and deleted as the run goes. */
export function aimAt(target: Target | undefined, pool: Pool): Aim {
  if (!target) return { state: 'none', segment: '' };
  const pick = (ids: string[], index: number) => ids[index % ids.length];
  switch (target.kind) {
    case 'live': {
      const id = pick(pool.live, target.pick);
      if (!id) {
        const missing = ulid();
        return { state: 'missing', id: missing, segment: missing };
      }
      return target.suffix ? { state: 'garbage', segment: `${id}${target.suffix}` } : { state: 'live', id, segment: id };
    }
    case 'deleted': {
      const id = pick(pool.deleted, target.pick) ?? ulid();
      return { state: pool.deleted.length > 0 ? 'deleted' : 'missing', id, segment: id };
    }
    case 'missing': {
      const id = ulid();
      return { state: 'missing', id, segment: id };
    }
    case 'garbage':
      return { state: 'garbage', segment: target.segment };
  }
}

/** The expectation once the target is known: a valid request on a record that is not there gets 404. */
export function refineExpectation(testCase: HostileCase, aim: Aim): { expect: Expectation; statuses?: number[] } {
  if (aim.state === 'none' || aim.state === 'live') return { expect: testCase.expect, statuses: testCase.statuses };
  const elsewhere = [404, ...(aim.state === 'garbage' ? [400, 414] : [])];
  const deletedButKnown = aim.state === 'deleted' && (testCase.route === 'history' || testCase.route === 'audit');
  if (deletedButKnown) return { expect: testCase.expect, statuses: testCase.statuses };
  if (testCase.expect === 'accept') return { expect: 'refuse', statuses: elsewhere };
  return { expect: testCase.expect, statuses: testCase.statuses && [...testCase.statuses, ...elsewhere] };
}

/** The bytes a case sends, its target and the run's cursors filled in. */
export function buildRequest(testCase: HostileCase, aim: Aim, before: Data | null, pool: Pool): SentRequest {
  const base = `/${testCase.entity.path}`;
  const record = `${base}/${aim.segment}`;
  const [method, path] = (
    {
      create: ['POST', base],
      batch: ['POST', `${base}/batch`],
      list: ['GET', `${base}?${listQuery(testCase, pool)}`],
      read: ['GET', record],
      replace: ['PUT', record],
      update: ['PATCH', record],
      delete: ['DELETE', record],
      history: ['GET', `${record}/history`],
      audit: ['GET', `${record}/audit`],
      'grants-list': ['GET', `${record}/grants`],
      'grants-add': ['POST', `${record}/grants`],
      'grants-remove': ['DELETE', `${record}/grants/${testCase.subject}`],
    } as const
  )[testCase.route];
  const headers: Record<string, string> = { 'x-user': testCase.user ?? ADMIN_USER, ...testCase.headers };
  let body = testCase.bytes;
  if (body === undefined && testCase.body !== undefined) {
    body = Buffer.from(jsonText(testCase.route === 'replace' ? withImmutable(testCase.entity, testCase.body, before) : testCase.body));
  }
  if (body !== undefined && testCase.contentType !== '') headers['content-type'] = testCase.contentType ?? 'application/json';
  if (testCase.ifMatch) headers['if-match'] = `"${((before?.version as number | undefined) ?? 1) + (testCase.ifMatch === 'stale' ? 7 : 0)}"`;
  return { method, path, headers, body };
}

function listQuery(testCase: HostileCase, pool: Pool): string {
  if (!testCase.cursor) return testCase.query ?? '';
  const { mode, pick } = testCase.cursor;
  const entry = pool.cursors[pick % Math.max(pool.cursors.length, 1)];
  if (!entry) return mode === 'valid' ? 'limit=1' : `cursor=${'A'.repeat(44)}`;
  const prefix = (query: string) => (query === '' ? '' : `${query}&`);
  switch (mode) {
    case 'valid':
      return `${prefix(entry.query)}cursor=${entry.cursor}`;
    case 'tampered': {
      // Not the last character: its low bits may be padding, so changing it may change nothing.
      const at = pick % (entry.cursor.length - 1);
      const flipped = BASE64URL[(BASE64URL.indexOf(entry.cursor[at]!) + 1) % BASE64URL.length];
      return `${prefix(entry.query)}cursor=${entry.cursor.slice(0, at)}${flipped}${entry.cursor.slice(at + 1)}`;
    }
    case 'other sort':
      return `sort=${entry.sort === 'id' ? '-id' : 'id'}&cursor=${entry.cursor}`;
  }
}

/**
 * A replace body with each immutable field it leaves out set to the stored value, as a
 * valid PUT must send it; with no stored record, to a value its validation takes.
 */
function withImmutable(definition: EntityDefinition, body: JsonText, before: Data | null): JsonText {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || body instanceof RawJson) return body;
  let result = body as { [key: string]: JsonText };
  for (const field of definition.fields.filter((candidate) => candidate.immutable && !Object.hasOwn(result, candidate.name))) {
    const value = before ? before[field.name] : (field.example ?? placeholder(field.type));
    if (value !== undefined) result = withKey(result, field.name, value as JsonText);
  }
  return result;
}

function placeholder(type: string): JsonText {
  return type === 'number' ? 1 : type === 'boolean' ? true : type === 'date' ? '2026-01-01T00:00:00.000Z' : 'placeholder';
}
