import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { ENTITIES_MODULE_OPTIONS } from '../common/entity-tokens.util.js';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { runWithRequestId } from '../common/request-context.util.js';
import { entityErrorToHttp } from './entity-errors.interceptor.js';
import { checkRequestBody, DEFAULT_MAX_BODY_BYTES } from './request-body.util.js';
import { requestIdOf, type HttpRequest } from './request-meta.util.js';

/**
 * The one interceptor of the grants routes: it checks write bodies, runs the handler as
 * work for its request (as `RequestContextInterceptor` does) and maps the package's errors
 * (as `EntityErrorsInterceptor` does). One, because every interceptor adds an Observable
 * pipeline to each request, a measurable share of a read that lmdb answers in microseconds.
 */
@Injectable()
export class EntityRouteInterceptor implements NestInterceptor {
  private readonly maxBytes: number;
  private readonly requestContext: boolean;

  constructor(@Inject(ENTITIES_MODULE_OPTIONS) options: EntitiesModuleOptions) {
    this.maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.requestContext = options.requestContext !== false;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<HttpRequest & Parameters<typeof checkRequestBody>[0]>();
    checkRequestBody(request, this.maxBytes);
    const requestId = requestIdOf(request);
    return new Observable((subscriber) => {
      const subscribe = () =>
        next.handle().subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => subscriber.error(entityErrorToHttp(error)),
          complete: () => subscriber.complete(),
        });
      return this.requestContext ? runWithRequestId(requestId, subscribe) : subscribe();
    });
  }
}
