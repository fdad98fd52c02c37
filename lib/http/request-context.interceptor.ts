import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { runWithRequestId } from '../common/request-context.util.js';
import { requestIdOf, type HttpRequest } from './request-meta.util.js';

/**
 * Runs the handler, and all it awaits, as work for its request, so log lines, spans and the
 * audit entries of repository writes made deep in the store carry the request's id. The
 * subscription happens inside the context because Nest only calls the handler when it
 * subscribes.
 */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const requestId = requestIdOf(context.switchToHttp().getRequest<HttpRequest>());
    return new Observable((subscriber) => runWithRequestId(requestId, () => next.handle().subscribe(subscriber)));
  }
}
