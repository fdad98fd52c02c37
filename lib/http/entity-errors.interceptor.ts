import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, type Observable } from 'rxjs';
import { entityErrorToHttp } from './entity-error-mapping.util.js';

/**
 * Maps the package's errors to HTTP answers on your own controllers (the generated routes do
 * the same in their handler, see `RouteGate`).
 */
@Injectable()
export class EntityErrorsInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((error: unknown) => {
        throw entityErrorToHttp(error);
      }),
    );
  }
}
