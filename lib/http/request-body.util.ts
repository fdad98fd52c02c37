import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';
import { RESERVED_FIELDS } from '../metadata/metadata.constants.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const MAX_DEPTH = 32;
const MAX_INNER_ARRAY = 100;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

interface BodyRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

/**
 * Guards write bodies before validation: bounded size (413), a JSON object (or array
 * for batch), no key that could reach a prototype at any depth, bounded nesting; the
 * managed fields (`id`, `version`, ...) are dropped, never stored. Other methods pass.
 */
export function checkRequestBody(request: BodyRequest, maxBytes: number): void {
  if (!BODY_METHODS.has(request.method)) return;
  const length = Number(request.headers['content-length']);
  if (Number.isFinite(length) && length > maxBytes) throw tooLarge(maxBytes);
  const body = request.body;
  if (body === undefined || body === null || typeof body !== 'object') {
    throw new BadRequestException('the request body must be JSON (Content-Type: application/json)');
  }
  if (!Number.isFinite(length) && Buffer.byteLength(JSON.stringify(body)) > maxBytes) throw tooLarge(maxBytes);
  checkKeys(body, 0);
  for (const item of Array.isArray(body) ? body : [body]) {
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      for (const field of RESERVED_FIELDS) delete (item as Record<string, unknown>)[field];
    }
  }
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
