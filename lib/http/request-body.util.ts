import { BadRequestException, PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import { FORBIDDEN_KEYS, RESERVED_FIELDS } from '../common/metadata.constants.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const MAX_DEPTH = 32;
const MAX_INNER_ARRAY = 100;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** `application/json` and the structured `+json` types of RFC 6839 (`application/merge-patch+json`, ...). */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9][\w!#$&^.+-]*\+)?json$/;
const PRINTABLE_MEDIA_TYPE = /^[\w!#$&^.+-]{1,64}\/[\w!#$&^.+-]{1,64}$/;

interface BodyRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

/**
 * Guards write bodies before validation: sent as JSON (415), bounded size (413), a JSON
 * object (or array for batch), no key that could reach a prototype at any depth, bounded
 * nesting; the managed fields (`id`, `version`, ...) are dropped, never stored. Other
 * methods pass.
 */
export function checkRequestBody(request: BodyRequest, maxBytes: number): void {
  if (!BODY_METHODS.has(request.method)) return;
  const type = checkContentType(request.headers['content-type']);
  const length = Number(request.headers['content-length']);
  if (Number.isFinite(length) && length > maxBytes) throw tooLarge(maxBytes);
  const body = request.body;
  // A body no parser took: Fastify answers 415 itself for a type it has no parser for, Express leaves the body unset.
  if (body === undefined && type !== 'application/json' && (length > 0 || request.headers['transfer-encoding'] !== undefined)) {
    throw unsupported(PRINTABLE_MEDIA_TYPE.test(type) ? `Content-Type ${type} is not one this app parses` : 'this Content-Type is not one this app parses');
  }
  // Express's parser reads an empty JSON body as {}; Fastify refuses it: it is no JSON on either.
  const empty = length === 0 && request.headers['transfer-encoding'] === undefined;
  if (empty || body === undefined || body === null || typeof body !== 'object') {
    throw new BadRequestException('the request body must be JSON (Content-Type: application/json)');
  }
  // A coded body (Express inflates gzip, deflate and br) is larger than its Content-Length says.
  const coding = request.headers['content-encoding'];
  const coded = coding !== undefined && String(coding).trim().toLowerCase() !== 'identity';
  if ((!Number.isFinite(length) || coded) && Buffer.byteLength(JSON.stringify(body)) > maxBytes) throw tooLarge(maxBytes);
  checkKeys(body, 0);
  for (const item of Array.isArray(body) ? body : [body]) {
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      for (const field of RESERVED_FIELDS) delete (item as Record<string, unknown>)[field];
    }
  }
}

/**
 * Only JSON, whatever body parsers the app has: a cross-site HTML form or a `fetch` without a
 * CORS preflight can send form-urlencoded, multipart and text/plain bodies, which a parser
 * (Nest's own on Fastify, Express's `urlencoded`) may turn into an object the validation would
 * accept. Every JSON type needs a preflight. A missing Content-Type is refused too, with or
 * without a body: a body route has no use for a request that does not say it is JSON.
 */
function checkContentType(header: string | string[] | undefined): string {
  // What nearly every client sends, taken without splitting and lowering it.
  if (header === 'application/json') return header;
  const type = typeof header === 'string' ? header.split(';', 1)[0]!.trim().toLowerCase() : '';
  if (JSON_MEDIA_TYPE.test(type)) {
    // JSON is UTF-8 (RFC 8259 8.1): Fastify would decode any other charset as UTF-8 and store what the client never sent.
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(header as string)?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') throw unsupported('only the UTF-8 charset is supported');
    return type;
  }
  // The type is echoed only when it is one short, plain token: the message may end up in logs and pages.
  throw unsupported(
    type === ''
      ? 'the request has no Content-Type'
      : PRINTABLE_MEDIA_TYPE.test(type)
        ? `Content-Type ${type} is not supported`
        : 'this Content-Type is not supported',
  );
}

function unsupported(problem: string): UnsupportedMediaTypeException {
  return new UnsupportedMediaTypeException(`${problem}: send the body as JSON (Content-Type: application/json)`);
}

function tooLarge(maxBytes: number): PayloadTooLargeException {
  return new PayloadTooLargeException(`the request body is larger than ${maxBytes} bytes`);
}

function checkKeys(value: unknown, depth: number): void {
  if (value === null || typeof value !== 'object') return;
  if (depth > MAX_DEPTH) throw new BadRequestException(`the request body is nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    // Every field is a scalar and grants name a few rights: a long inner array is never valid, and
    // class-transformer and class-validator would spend seconds of the event loop finding that out.
    if (depth > 0 && value.length > MAX_INNER_ARRAY) throw new BadRequestException(`arrays inside the request body hold at most ${MAX_INNER_ARRAY} elements`);
    for (const item of value) checkKeys(item, depth + 1);
    return;
  }
  for (const key of Object.keys(value)) {
    // Names of Object.prototype's members (toString, valueOf, ...) slip past class-transformer's whitelist unseen.
    if (FORBIDDEN_KEYS.has(key) || Object.prototype.hasOwnProperty.call(Object.prototype, key)) {
      throw new BadRequestException(`property ${key} is not allowed`);
    }
    checkKeys((value as Record<string, unknown>)[key], depth + 1);
  }
}
