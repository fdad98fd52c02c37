import { BadRequestException, Controller, Delete, Get, HttpCode, Inject, Patch, Post, Put, Req, Res, SetMetadata, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiForbiddenResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { EntityDefinition, ReferenceDefinition } from '../metadata/entity-definition.interface.js';
import { METADATA_KEYS } from '../common/metadata.constants.js';
import { ENTITIES_MODULE_OPTIONS, getRepositoryToken } from '../common/entity-tokens.util.js';
import type { AccessDecision } from '../repository/access-policy.interface.js';
import type { DecidedContext } from '../repository/decided-context.interface.js';
import { EntityAccess } from '../permission/entity-access.service.js';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { EntitiesTelemetry } from '../telemetry/entities-telemetry.service.js';
import { documentReplication } from './replication-docs.util.js';
import { RouteGate, type RouteMethod, type RouteServices } from './route.gate.js';
import type { EntityChange, EntityRepository, RepositoryWriteContext } from '../repository/entity.repository.js';
import type { WriteContext } from '../storage/write-context.interface.js';
import type { EntityAction } from '../common/entity-action.constants.js';
import { createHash } from 'node:crypto';
import { isoDateOf } from '../common/date-value.util.js';
import { streamChanges } from './change-stream.util.js';
import { AuditService } from '../audit/audit.service.js';
import { EntityCache } from '../cache/entity-cache.service.js';
import { EntityStorage } from '../storage/entity-storage.store.js';
import { RecordNotFoundException } from '../storage/record-not-found.exception.js';
import { createBodyValidator, validateBatch } from './entity-body.util.js';
import { classStem, type EntityDtos } from './entity-dto.factory.js';
import { entityRouteDocs } from './entity-route-docs.decorator.js';
import { etagOf, expectedVersionOf } from './if-match.util.js';
import { includeOf } from './include-query.util.js';
import { parseListQuery } from './list-query.util.js';
import { toAuditView } from './audit-view.util.js';
import { toHistoryResponse } from './history-view.util.js';
import { idempotencyKeyOf, paramOf, requestMetaOf } from './request-meta.util.js';

type HttpRequest = Parameters<typeof requestMetaOf>[0];

/**
 * Builds the REST controller of one entity: a real class per entity, named after it,
 * with the routes, status codes and headers the README documents, all served by the entity's
 * repository. Built in `forFeature()` because Nest registers routes before any
 * `onModuleInit`.
 */
export function createEntityController(definition: EntityDefinition, dtos: EntityDtos): Type<unknown> {
  const createBody = createBodyValidator(dtos.create);
  const updateBody = createBodyValidator(dtos.update);
  const name = definition.name;
  const noun = classStem(definition);
  const docs = entityRouteDocs(definition, dtos);
  // Routes that only an entity with soft delete has: without it, the method is no route at all.
  const onlyWithSoftDelete = (decorator: MethodDecorator): MethodDecorator => (definition.softDelete ? decorator : () => undefined);

  @ApiTags(name)
  @ApiUnauthorizedResponse({ description: 'The action needs a principal and the request has none' })
  @ApiForbiddenResponse({ description: 'The principal lacks the permission' })
  @Controller(definition.path)
  @SetMetadata(METADATA_KEYS.definition, definition)
  class EntityController {
    /** Each route's stages (request id, metrics, access, body and id checks): see `RouteGate`. */
    protected readonly routes: Record<RouteName, RouteGate>;
    /** The entity a reference points to, for filters through it (`?permit.status=open`). */
    protected readonly targetOf: (reference: ReferenceDefinition) => EntityDefinition;

    constructor(
      @Inject(getRepositoryToken(definition.target)) protected readonly repository: EntityRepository<object>,
      protected readonly adapterHost: HttpAdapterHost,
      protected readonly access: EntityAccess,
      protected readonly audit: AuditService,
      protected readonly cache: EntityCache,
      @Inject(ENTITIES_MODULE_OPTIONS) options: EntitiesModuleOptions,
      telemetry: EntitiesTelemetry,
      storage: EntityStorage,
    ) {
      storage.claimRoutes(definition);
      this.targetOf = (reference) => storage.referenceTarget(definition, reference);
      if (storage.replication) documentReplication(Object.getPrototypeOf(this) as object);
      const services: RouteServices = { definition, options, access, audit, telemetry, adapterHost, replication: storage.replication };
      const gate = (method: RouteMethod, path: string, action: EntityAction, body?: typeof createBody) => new RouteGate(services, method, path, action, body);
      this.routes = {
        create: gate('POST', '', 'create', createBody),
        createMany: gate('POST', 'batch', 'create'),
        list: gate('GET', '', 'read'),
        findOne: gate('GET', ':id', 'read'),
        replace: gate('PUT', ':id', 'update', createBody),
        update: gate('PATCH', ':id', 'update', updateBody),
        remove: gate('DELETE', ':id', 'delete'),
        purge: gate('DELETE', ':id', 'admin'),
        restore: gate('POST', ':id/restore', 'delete'),
        history: gate('GET', ':id/history', 'history'),
        findAt: gate('GET', ':id', 'history'),
        changes: gate('GET', 'changes', 'read'),
        diff: gate('GET', ':id/diff', 'history'),
        revert: gate('POST', ':id/revert', 'update'),
        audit: gate('GET', ':id/audit', 'audit'),
      };
    }

    @Post()
    @docs.create()
    create(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      return this.routes.create.serve(request, response, undefined, async (decision, body) => {
        const context = this.context(request, decision, { idempotencyKey: idempotencyKeyOf(request) });
        return this.respond(response, await this.repository.create(body as never, context));
      });
    }

    @Post('batch')
    @docs.createMany()
    createMany(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      return this.routes.createMany.serve(request, response, undefined, async (decision, body) => {
        const items = await validateBatch(createBody, body, this.repository.maxBatch);
        const context = this.context(request, decision, { idempotencyKey: idempotencyKeyOf(request) });
        return this.repository.createMany(items as never[], context);
      });
    }

    @Get()
    @docs.list()
    list(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      return this.routes.list.serve(request, response, undefined, async (decision) => {
        const url = this.adapterHost.httpAdapter.getRequestUrl(request) as string;
        const query = parseListQuery(definition, url, this.targetOf);
        const include = includeOf(url);
        // Who sees a deleted record depends on the delete rule too, and an included record or a
        // filter through a reference on another entity's rules and changes: none is in the cache's keys.
        if (include || Object.keys(query.where ?? {}).some((key) => key.includes('.'))) {
          return this.repository.find(query, { ...readerOf(decision), ...(include && { include }) });
        }
        if (query.deleted !== undefined && query.deleted !== 'exclude') return this.repository.find(query, readerOf(decision));
        return this.cachedRead(
          decision,
          () => `list:${digest(url.slice(url.indexOf('?') + 1))}`,
          () => this.repository.find(query, readerOf(decision)),
        );
      });
    }

    // Declared before `:id`, which would otherwise take `changes` for an id on Express.
    @Get('changes')
    @docs.changes()
    changes(@Req() request: HttpRequest, @Res() response: object): Promise<void> {
      return this.routes.changes.serve(request, response, undefined, async (decision) => {
        const afterSeq = afterSeqOf(request.headers['last-event-id'], this.adapterHost.httpAdapter.getRequestUrl(request) as string);
        const abort = new AbortController();
        const changes = this.repository.subscribe({ ...readerOf(decision), ...(afterSeq !== undefined && { afterSeq }), signal: abort.signal });
        await streamChanges(response, changes as AsyncIterableIterator<EntityChange>, abort);
      });
    }

    @Get(':id')
    @docs.findOne()
    findOne(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      const id = paramOf(request, 'id');
      const url = this.adapterHost.httpAdapter.getRequestUrl(request) as string;
      if (url.includes('?')) {
        let point: PastPointQuery | undefined;
        let include: string[] | undefined;
        try {
          point = pastPointQuery(url);
          include = includeOf(url);
          if (point && include) throw new BadRequestException('include reads the records referred to as they are now: not with version or asOf');
        } catch (error) {
          const search = searchOf(url);
          return this.refuse(search.has('version') || search.has('asOf') ? this.routes.findAt : this.routes.findOne, request, response, id, error);
        }
        if (point) return this.findAt(request, response, id, point);
        if (include) return this.findIncluding(request, response, id, include);
      }
      // Chained rather than awaited: the hottest route makes as few promises as it can (see RouteGate).
      const load = (decision: AccessDecision) => () => this.repository.findById(id, readerOf(decision));
      return this.routes.findOne.serve(request, response, id, (decision) =>
        this.cachedRead(decision, () => `id:${id}`, load(decision)).then((view) => {
          if (!view) throw new RecordNotFoundException(name, id);
          this.adapterHost.httpAdapter.setHeader(response, 'ETag', etagOf(view.version));
          return view;
        }),
      );
    }

    /**
     * `GET /P/:id?include=<names>`: the record with the records it refers to; never cached, as
     * those change on their own, and without an ETag, which names the record's version only
     * (an `If-None-Match` would get 304 while an included record had changed).
     */
    protected findIncluding(request: HttpRequest, response: object, id: string, include: string[]) {
      return this.routes.findOne.serve(request, response, id, async (decision) => {
        const view = await this.repository.findById(id, { ...readerOf(decision), include });
        if (!view) throw new RecordNotFoundException(name, id);
        return view;
      });
    }

    /** `GET /P/:id?version=N` or `?asOf=<time>`: the record as it was, read from the log; never cached. */
    protected findAt(request: HttpRequest, response: object, id: string, point: PastPointQuery) {
      return this.routes.findAt.serve(request, response, id, async (decision) => {
        const view = await this.repository.findAt(id, point, readerOf(decision));
        if (!view) throw new RecordNotFoundException(name, 'version' in point ? `${id} version ${point.version}` : `${id} as of ${point.asOf}`);
        return view;
      });
    }

    @Get(':id/diff')
    @docs.diff()
    diff(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      const id = paramOf(request, 'id');
      return this.routes.diff.serve(request, response, id, async (decision) => {
        const versions = diffQuery(this.adapterHost.httpAdapter.getRequestUrl(request) as string);
        const diff = await this.repository.diff(id, versions, readerOf(decision));
        if (!diff) throw new RecordNotFoundException(name, id);
        return diff;
      });
    }

    @Post(':id/revert')
    @HttpCode(200)
    @docs.revert()
    revert(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      const id = paramOf(request, 'id');
      return this.routes.revert.serve(request, response, id, async (decision, body) => {
        const version = revertVersionOf(body);
        const context = this.context(request, decision, { expectedVersion: expectedVersionOf(request.headers['if-match']) });
        return this.respond(response, await this.repository.revert(id, version, context));
      });
    }

    @Put(':id')
    @docs.replace()
    replace(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      return this.change(this.routes.replace, request, response, (id, body, context) => this.repository.replace(id, body as never, context));
    }

    @Patch(':id')
    @docs.update()
    update(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      return this.change(this.routes.update, request, response, (id, body, context) => this.repository.update(id, body as never, context));
    }

    @Delete(':id')
    @HttpCode(204)
    @docs.remove()
    remove(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object): Promise<void> {
      const id = paramOf(request, 'id');
      let purge: boolean;
      try {
        purge = definition.softDelete && purgeRequested(this.adapterHost.httpAdapter.getRequestUrl(request) as string);
      } catch (error) {
        return this.refuse(this.routes.remove, request, response, id, error);
      }
      const route = purge ? this.routes.purge : this.routes.remove;
      return route.serve(request, response, id, async (decision) => {
        const context = this.context(request, decision, { expectedVersion: expectedVersionOf(request.headers['if-match']) });
        await (purge ? this.repository.purge(id, context) : this.repository.delete(id, context));
      });
    }

    @onlyWithSoftDelete(Post(':id/restore'))
    @onlyWithSoftDelete(HttpCode(200))
    @onlyWithSoftDelete(docs.restore())
    restore(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      const id = paramOf(request, 'id');
      return this.routes.restore.serve(request, response, id, async (decision, body) => {
        if (Object.keys(body as object).length > 0) throw new BadRequestException('restore takes no fields: send {}');
        const context = this.context(request, decision, { expectedVersion: expectedVersionOf(request.headers['if-match']) });
        return this.respond(response, await this.repository.restore(id, context));
      });
    }

    @Get(':id/history')
    @docs.history()
    history(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      const id = paramOf(request, 'id');
      return this.routes.history.serve(request, response, id, async (decision) => {
        const view = await this.cachedRead(
          decision,
          () => `history:${id}`,
          async () => {
            const history = await this.repository.history(id, readerOf(decision));
            return history && toHistoryResponse(history);
          },
        );
        if (!view) throw new RecordNotFoundException(name, id);
        return view;
      });
    }

    /** A PUT or PATCH of the record at `:id`, under the version `If-Match` names, answered with the record and its ETag. */
    protected change(
      route: RouteGate,
      request: HttpRequest,
      response: object,
      write: (id: string, body: unknown, context: RepositoryWriteContext) => Promise<{ version: number }>,
    ): Promise<Record<string, unknown>> {
      const id = paramOf(request, 'id');
      return route.serve(request, response, id, async (decision, body) => {
        const context = this.context(request, decision, { expectedVersion: expectedVersionOf(request.headers['if-match']) });
        return this.respond(response, await write(id, body, context));
      });
    }

    /**
     * Answers a query string that chose no route (it could not be read) through `route`'s
     * checks: 401 and 403 come before its 400, as on every route, so a caller who may not take
     * the action learns nothing of what it asked.
     */
    protected refuse(route: RouteGate, request: HttpRequest, response: object, id: string, error: unknown): Promise<never> {
      return route.serve(request, response, id, () => Promise.reject(error));
    }

    /** The write context of a request: the route's decision (its principal the actor), and its details for the audit trail. */
    protected context(request: HttpRequest, decision: AccessDecision, extra: WriteContext): RepositoryWriteContext & DecidedContext {
      return { ...extra, ...readerOf(decision), request: this.requestMeta(request) };
    }

    protected requestMeta(request: HttpRequest) {
      return requestMetaOf(request, this.adapterHost.httpAdapter.getRequestUrl(request) as string);
    }

    /** A read through the cache when the entity is cached; straight from `load` otherwise. */
    protected cachedRead<V>(decision: AccessDecision, key: () => string, load: () => Promise<V>): Promise<V> {
      return this.cache.caches(definition) ? this.cache.read(definition, this.viewKey(decision), key(), load) : load();
    }

    /**
     * What a cached answer depends on besides the data: the fields the principal may not
     * read and, when records are filtered per principal, who it is and the grants in force.
     */
    protected viewKey(decision: AccessDecision): string {
      const hidden = [...this.access.unreadableFields(definition, decision)].sort().join(',');
      const records = decision.entityWide ? 'all' : `${digest(decision.principal?.id ?? '')}@${this.access.acl.version()}`;
      return `${records}|${hidden}`;
    }

    /** A written record, as the repository shaped it for the route's decision, with its ETag. */
    protected respond<R extends { version: number }>(response: object, record: R): R {
      this.adapterHost.httpAdapter.setHeader(response, 'ETag', etagOf(record.version));
      return record;
    }
  }

  // The audit route exists only for @Audited entities: others keep no trail to answer from.
  class AuditedEntityController extends EntityController {
    @Get(':id/audit')
    @docs.audit()
    auditTrail(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      const id = paramOf(request, 'id');
      return this.routes.audit.serve(request, response, id, async (decision) => {
        // Only a record that exists or existed has a trail; refused writes naming other ids do not make one.
        if (!(await this.repository.history(id))) throw new RecordNotFoundException(name, id);
        const items = await this.audit.forRecord(name, id);
        return { items: items.map((entry) => toAuditView(entry, this.access.unreadableFields(definition, decision))) };
      });
    }
  }

  const controller = definition.audited ? AuditedEntityController : EntityController;
  Object.defineProperty(controller, 'name', { value: `${noun}Controller` });
  return controller;
}

/** A read made for the route's decision: the repository applies it rather than deciding again, and shapes the records once. */
function readerOf(decision: AccessDecision): DecidedContext {
  return { principal: decision.principal ?? null, decision };
}

type RouteName =
  | 'changes'
  | 'create'
  | 'createMany'
  | 'list'
  | 'findOne'
  | 'findAt'
  | 'replace'
  | 'update'
  | 'remove'
  | 'purge'
  | 'restore'
  | 'history'
  | 'diff'
  | 'revert'
  | 'audit';

type PastPointQuery = { version: number } | { asOf: string };

function searchOf(url: string): URLSearchParams {
  return new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
}

/**
 * Where a change stream starts: after `Last-Event-ID` (what a browser's EventSource sends when
 * it reconnects), else after `?after=`, else at the log's end.
 */
function afterSeqOf(lastEventId: string | string[] | undefined, url: string): number | undefined {
  const search = searchOf(url);
  // Filters, sorts and pages are for lists: silently streaming everything would mislead.
  for (const key of search.keys()) if (key !== 'after') throw new BadRequestException(`unknown query parameter ${key}: the change feed takes only after`);
  const raw = typeof lastEventId === 'string' ? lastEventId : (search.get('after') ?? undefined);
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new BadRequestException('Last-Event-ID and after must be a seq: a whole number');
  return Number(raw);
}

/** `?version=N` or `?asOf=<time>` of `GET /P/:id`, if either; both at once, or a malformed one, is refused. */
function pastPointQuery(url: string): PastPointQuery | undefined {
  const search = searchOf(url);
  const version = search.get('version');
  const asOf = search.get('asOf');
  if (version !== null && asOf !== null) throw new BadRequestException('give version or asOf, not both');
  if (version !== null) return { version: positiveInteger('version', version) };
  if (asOf === null) return undefined;
  const time = isoDateOf(asOf);
  if (time === undefined) throw new BadRequestException('asOf must be an ISO-8601 date');
  return { asOf: time };
}

function diffQuery(url: string): { from?: number; to?: number } {
  const search = searchOf(url);
  const [from, to] = [search.get('from'), search.get('to')];
  return { ...(from !== null && { from: positiveInteger('from', from) }), ...(to !== null && { to: positiveInteger('to', to) }) };
}

function positiveInteger(name: string, raw: string): number {
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw new BadRequestException(`${name} must be a positive integer`);
  return Number(raw);
}

/** The body of `POST /P/:id/revert`: `{ "toVersion": N }` and nothing else (`version` in a body is the record's own, and ignored). */
function revertVersionOf(body: unknown): number {
  const { toVersion, ...rest } = body as { toVersion?: unknown };
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new BadRequestException(`property ${extra[0]} should not exist`);
  if (typeof toVersion !== 'number' || !Number.isSafeInteger(toVersion) || toVersion < 1) throw new BadRequestException('toVersion must be a positive integer');
  return toVersion;
}

/** Whether a DELETE asks to purge (`?purge=true`); anything but `true` or `false` is refused. */
function purgeRequested(url: string): boolean {
  const value = searchOf(url).get('purge');
  if (value === null || value === 'false') return false;
  if (value === 'true') return true;
  throw new BadRequestException('purge must be true or false');
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}
