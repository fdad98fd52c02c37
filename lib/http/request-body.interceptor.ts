import {
  BadRequestException,
  Inject,
  Injectable,
  PayloadTooLargeException,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { RESERVED_FIELDS } from '../metadata/metadata.constants.js';
import { ENTITIES_MODULE_OPTIONS } from '../module/entities.module-definition.js';
import type { EntitiesModuleOptions } from '../module/entities-module-options.interface.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const MAX_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Guards write bodies before validation: bounded size (413), a JSON object (or array
 * for batch), no key that could reach a prototype at any depth, bounded nesting; the
 * managed fields (`id`, `version`, ...) are dropped, never stored.
 */
@Injectable()
export class RequestBodyInterceptor implements NestInterceptor {
  private readonly maxBytes: number;

  constructor(@Inject(ENTITIES_MODULE_OPTIONS) options: EntitiesModuleOptions) {
    this.maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<{ method: string; headers: Record<string, string | undefined>; body?: unknown }>();
    if (!['POST', 'PUT', 'PATCH'].includes(request.method)) return next.handle();
    const length = Number(request.headers['content-length']);
    if (Number.isFinite(length) && length > this.maxBytes) throw this.tooLarge();
    const body = request.body;
    if (body === undefined || body === null || typeof body !== 'object') {
      throw new BadRequestException('the request body must be JSON (Content-Type: application/json)');
    }
    if (!Number.isFinite(length) && Buffer.byteLength(JSON.stringify(body)) > this.maxBytes) throw this.tooLarge();
    checkKeys(body, 0);
    for (const item of Array.isArray(body) ? body : [body]) {
      if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
        for (const field of RESERVED_FIELDS) delete (item as Record<string, unknown>)[field];
      }
    }
    return next.handle();
  }

  private tooLarge(): PayloadTooLargeException {
    return new PayloadTooLargeException(`the request body is larger than ${this.maxBytes} bytes`);
  }
}

function checkKeys(value: unknown, depth: number): void {
  if (value === null || typeof value !== 'object') return;
  if (depth > MAX_DEPTH) throw new BadRequestException(`the request body is nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (const item of value) checkKeys(item, depth + 1);
    return;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) throw new BadRequestException(`property ${key} is not allowed`);
    checkKeys((value as Record<string, unknown>)[key], depth + 1);
  }
}
