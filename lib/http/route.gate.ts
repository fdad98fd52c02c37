import type { HttpAdapterHost } from '@nestjs/core';
import type { AuditService } from '../audit/audit.service.js';
import type { RequestObserver } from '../telemetry/entities-metrics.service.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { AccessDeniedException } from '../repository/access-denied.exception.js';
import type { AccessDecision } from '../repository/access-policy.interface.js';
import type { EntityAccess } from '../permission/entity-access.service.js';
import type { EntityAction } from '../common/entity-action.constants.js';
import { resolvePrincipal, type ResolvedPrincipal } from '../permission/principal-resolver.util.js';
import { checkRecordId, RECORD_ID } from '../storage/record-id.util.js';
import type { WriteSequencer } from '../storage/write-sequencer.interface.js';
import type { EntitiesTelemetry } from '../telemetry/entities-telemetry.service.js';
import { runSynchronouslyAs, runWithRequestId } from '../common/request-context.util.js';
import type { BodyValidator } from './entity-body.util.js';
import { entityErrorToHttp } from './entity-error-mapping.util.js';
import { checkRequestBody, DEFAULT_MAX_BODY_BYTES } from './request-body.util.js';
import { minSeqOf, requestIdOf, requestMetaOf, type HttpRequest } from './request-meta.util.js';
import { routeOf, timeResponse } from './response-timing.util.js';

/**
 * The longest route a denial's audit entry stores as requested: a record id (128) and a grant
 * subject (200) under any prefix fit; a longer path comes from no route's real use.
 */
const MAX_DENIED_ROUTE = 1024;

/** What every route of one entity's controller shares. */
export interface RouteServices {
  definition: EntityDefinition;
  options: EntitiesModuleOptions;
  access: EntityAccess;
  audit: AuditService;
  telemetry: EntitiesTelemetry;
  adapterHost: HttpAdapterHost;
  /** Orders writes with other instances', when the store is replicated. */
  replication?: WriteSequencer;
}

export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The work of a route once the request may go on: `body` is the validated body of a route that takes one. */
export type RouteWork<R> = (decision: AccessDecision, body: unknown) => Promise<R>;

/**
 * One generated route's stages, run inside its handler in the order Nest would run a guard,
 * an interceptor and pipes: the request id and metrics, then access (401, 403; a refused
 * write on an `@Audited` entity goes to the audit trail), then the body's shape (413, 400),
 * the id (404) and the body's validation, then the work in the request's context with the
 * package's errors mapped. Not Nest guards and interceptors, because each of those stages
 * costs a request about as much as lmdb's lookup, and a write's CPU time is what bounds
 * durable write throughput at a few connections. Your own global guards, interceptors and
 * pipes still run before the handler, as on any route.
 */
export class RouteGate {
  private observer?: RequestObserver;
  private readonly maxBodyBytes: number;

  constructor(
    private readonly services: RouteServices,
    private readonly method: RouteMethod,
    /** The route below the entity's path, as declared (`''`, `':id'`, `':id/history'`). */
    private readonly path: string,
    private readonly action: EntityAction,
    /** Validates the body of a route that takes one. */
    private readonly bodyValidator?: BodyValidator,
    /** The controller's path, when not the entity's (a nested route lives below the entity it refers to). */
    private readonly controllerPath = services.definition.path,
  ) {
    this.maxBodyBytes = services.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** Serves `work` once the principal may take the route's action; `id`, when the route has one, must be one a record can have. */
  serve<R>(request: HttpRequest, response: object, id: string | undefined, work: RouteWork<R>): Promise<R> {
    const requestId = requestIdOf(request);
    this.services.adapterHost.httpAdapter.setHeader(response, 'X-Request-Id', requestId);
    const observe = this.observerOf();
    if (observe) timeResponse(response, observe);
    const replication = this.services.replication;
    return replication ? this.replicated(replication, request, response, requestId, id, work) : this.start(request, requestId, id, work);
  }

  /**
   * With replication, a request may name the seq it must see (`X-Entities-Min-Seq`, a write's
   * `X-Entities-Seq` from any instance): it waits for this instance to apply it, else 503. A
   * write is answered with the seq of the last message applied once it was, its own included.
   */
  private replicated<R>(
    replication: WriteSequencer,
    request: HttpRequest,
    response: object,
    requestId: string,
    id: string | undefined,
    work: RouteWork<R>,
  ): Promise<R> {
    let wanted: number | undefined;
    try {
      wanted = minSeqOf(request);
    } catch (error) {
      return Promise.reject(error);
    }
    const served =
      wanted === undefined || replication.appliedSeq >= wanted
        ? this.start(request, requestId, id, work)
        : replication.waitFor(wanted).then(
            () => this.start(request, requestId, id, work),
            (error: unknown) => Promise.reject(entityErrorToHttp(error)),
          );
    if (this.method === 'GET') return served;
    return served.then((result) => {
      this.services.adapterHost.httpAdapter.setHeader(response, 'X-Entities-Seq', String(replication.appliedSeq));
      return result;
    });
  }

  private start<R>(request: HttpRequest, requestId: string, id: string | undefined, work: RouteWork<R>): Promise<R> {
    const mode = this.services.options.requestContext ?? 'auto';
    if (mode === true || (mode === 'auto' && this.services.telemetry.spansRecord())) {
      return runWithRequestId(requestId, () => this.run(request, undefined, id, work));
    }
    if (mode === false) return this.run(request, undefined, id, work);
    // Each stretch of the route's own code runs as the request: the work starts the repository
    // operation, which reads the id for its audit entry, span and slow-query line right there.
    const asRequest: RouteWork<R> = (decision, body) => runSynchronouslyAs(requestId, () => work(decision, body));
    return runSynchronouslyAs(requestId, () => this.run(request, requestId, id, asRequest));
  }

  // Promise chains rather than async functions: a read makes a few promises fewer, and with
  // the request context on, Node runs its hooks on every one.
  // `running` is the request id to hold around each later stretch when no storage carries it.
  private run<R>(request: HttpRequest, running: string | undefined, id: string | undefined, work: RouteWork<R>): Promise<R> {
    let served: Promise<R>;
    try {
      const resolved = resolvePrincipal(request, this.services.options);
      served =
        resolved instanceof Promise
          ? resolved.then((principal) => runSynchronouslyAs(running, () => this.proceed(principal, request, id, work)))
          : this.proceed(resolved, request, id, work);
    } catch (error) {
      served = Promise.reject(error);
    }
    return served.catch((error: unknown) => runSynchronouslyAs(running, () => this.refuse(error, request, id)));
  }

  private proceed<R>({ principal, permissions }: ResolvedPrincipal, request: HttpRequest, id: string | undefined, work: RouteWork<R>): Promise<R> {
    const decision = this.services.access.decide(this.services.definition, this.action, principal, permissions);
    checkRequestBody(request as BodyRequest, this.maxBodyBytes);
    if (id !== undefined) checkRecordId(this.services.definition.name, id);
    const body = (request as BodyRequest).body;
    if (!this.bodyValidator) return work(decision, body);
    const valid = this.bodyValidator.validate(body);
    return valid instanceof Promise ? valid.then((value: unknown) => work(decision, value)) : work(decision, valid);
  }

  private async refuse(error: unknown, request: HttpRequest, id: string | undefined): Promise<never> {
    if (error instanceof AccessDeniedException) await this.auditDenial(request, id);
    throw entityErrorToHttp(error);
  }

  /**
   * A refused write on an `@Audited` entity, refused up front or by an owner rule or grant on
   * the record. Every route but a GET writes (a purge and the grants routes under `admin`, a
   * restore under `delete`), so the method says which refusals are writes, not the action.
   */
  private async auditDenial(request: HttpRequest, id: string | undefined): Promise<void> {
    const { definition, audit, adapterHost } = this.services;
    if (!definition.audited || this.method === 'GET') return;
    const { principal } = await resolvePrincipal(request, this.services.options);
    const recordId = id !== undefined && RECORD_ID.test(id) ? id : undefined;
    const meta = requestMetaOf(request, adapterHost.httpAdapter.getRequestUrl(request) as string);
    // Anyone may be refused, so what a refusal stores stays small: a path no record's route can
    // have (an id no record can have, one too long for a key, say) is stored as its route's pattern.
    if ((id !== undefined && recordId === undefined) || meta.route!.length > MAX_DENIED_ROUTE)
      meta.route = `${this.method} ${routeOf(this.controllerPath, this.path)}`;
    await audit.recordDenied({ entity: definition.name, id: recordId ?? '', actor: principal?.id, request: meta });
  }

  private observerOf(): RequestObserver | undefined {
    const metrics = this.services.telemetry.metrics;
    if (!metrics) return undefined;
    this.observer ??= metrics.route(this.services.definition.name, this.method, routeOf(this.controllerPath, this.path));
    return this.observer;
  }
}

type BodyRequest = HttpRequest & { body?: unknown };
