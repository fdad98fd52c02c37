import { Injectable, RequestMethod, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import type { RequestObserver } from '../telemetry/entities-metrics.service.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { METADATA_KEYS } from '../common/metadata.constants.js';
import { EntitiesTelemetry } from '../telemetry/entities-telemetry.service.js';
import { requestIdOf, type HttpRequest } from './request-meta.util.js';
import { routeOf, timeResponse } from './response-timing.util.js';

/**
 * Gives a request what the generated routes give theirs: its id (its `X-Request-Id`, or a
 * new one), echoed in the `X-Request-Id` answer header, and its timing in the route's
 * metrics. A guard rather than an interceptor, so requests that a later guard refuses are
 * counted and carry the id too; it never refuses anything itself. Put it, with
 * `RequestContextInterceptor` and `EntityErrorsInterceptor`, on your own controllers, and first
 * among the app's global guards so that the generated routes' requests your guards refuse get
 * the same (their handlers do it for the others).
 */
@Injectable()
export class EntityRequestGuard implements CanActivate {
  /** The metrics observer of each route handler, bound to its labels on its first request. */
  private readonly observers = new WeakMap<Function, RequestObserver>();

  /** @internal */
  constructor(
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
    private readonly telemetry: EntitiesTelemetry,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const response = http.getResponse<object>();
    this.adapterHost.httpAdapter.setHeader(response, 'X-Request-Id', requestIdOf(http.getRequest<HttpRequest>()));
    const observe = this.observerOf(context);
    if (observe) timeResponse(response, observe);
    return true;
  }

  private observerOf(context: ExecutionContext): RequestObserver | undefined {
    const metrics = this.telemetry.metrics;
    if (!metrics) return undefined;
    const controller = context.getClass();
    const handler = context.getHandler();
    let observe = this.observers.get(handler);
    if (!observe) {
      const method = RequestMethod[this.reflector.get<RequestMethod>(METHOD_METADATA, handler)];
      const route = routeOf(firstPath(this.reflector.get(PATH_METADATA, controller)), firstPath(this.reflector.get(PATH_METADATA, handler)));
      // A generated route's series is its entity's, as its handler would time it (once: see `timeResponse`);
      // your own controllers' requests count under an empty entity.
      const entity = this.reflector.get<EntityDefinition | undefined>(METADATA_KEYS.definition, controller)?.name ?? '';
      observe = metrics.route(entity, method, route);
      this.observers.set(handler, observe);
    }
    return observe;
  }
}

/** A controller or handler may declare several paths; its series is labelled with the first. */
function firstPath(path: string | readonly string[] | undefined): string {
  return (Array.isArray(path) ? path[0] : path) ?? '';
}
