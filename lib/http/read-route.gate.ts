import type { HttpAdapterHost } from '@nestjs/core';
import type { RequestObserver } from '../metrics/entities-metrics.store.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntitiesModuleOptions } from '../module/entities-module-options.interface.js';
import type { AccessDecision, EntityAccess } from '../permission/entity-access.store.js';
import type { EntityAction } from '../permission/entity-action.constants.js';
import { resolvePrincipal } from '../permission/principal-resolver.util.js';
import type { EntitiesTelemetry } from '../tracing/entities-telemetry.store.js';
import { runWithRequestId } from '../tracing/request-context.util.js';
import { entityErrorToHttp } from './entity-errors.interceptor.js';
import { checkRecordId } from './record-id.pipe.js';
import { requestIdOf, type HttpRequest } from './request-meta.util.js';
import { routeOf, timeResponse } from './response-timing.util.js';

/** The work of a read route once the request may go on. */
export type ReadWork<R> = (decision: AccessDecision) => Promise<R>;

/**
 * Does for the generated read routes, inside their handler, what `EntityRequestGuard`,
 * `EntityAccessGuard`, `EntityRouteInterceptor` and `RecordIdPipe` do for the write routes,
 * in the same order: request id and metrics, then access (401, 403), then the id (404),
 * then the work in the request's context with the package's errors mapped. Each of Nest's
 * guard, interceptor and pipe stages costs a read about as much as lmdb's lookup itself;
 * writes keep the stages, since their commit dwarfs them and their body is validated only
 * after access is checked.
 */
export class ReadRouteGate {
  private readonly observers = new Map<string, RequestObserver>();

  constructor(
    private readonly definition: EntityDefinition,
    private readonly options: EntitiesModuleOptions,
    private readonly access: EntityAccess,
    private readonly telemetry: EntitiesTelemetry,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /**
   * Serves `work` for a `GET` of `path` (the route below the entity's path, as declared) once
   * the principal may take `action`; `id`, when the route has one, must be one a record can have.
   */
  async serve<R>(path: string, action: EntityAction, request: HttpRequest, response: object, id: string | undefined, work: ReadWork<R>): Promise<R> {
    const requestId = requestIdOf(request);
    this.adapterHost.httpAdapter.setHeader(response, 'X-Request-Id', requestId);
    const observe = this.observerOf(path);
    if (observe) timeResponse(response, observe);
    return runWithRequestId(requestId, async () => {
      try {
        const { principal, permissions } = await resolvePrincipal(request, this.options);
        const decision = this.access.decide(this.definition, action, principal, permissions);
        if (id !== undefined) checkRecordId(this.definition.name, id);
        return await work(decision);
      } catch (error) {
        throw entityErrorToHttp(error);
      }
    });
  }

  private observerOf(path: string): RequestObserver | undefined {
    const metrics = this.telemetry.metrics;
    if (!metrics) return undefined;
    let observe = this.observers.get(path);
    if (!observe) {
      observe = metrics.route(this.definition.name, 'GET', routeOf(this.definition.path, path));
      this.observers.set(path, observe);
    }
    return observe;
  }
}
