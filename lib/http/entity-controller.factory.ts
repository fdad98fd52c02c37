import { BadRequestException, Controller, Delete, Get, HttpCode, Inject, Patch, Post, Put, Req, Res, SetMetadata, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiForbiddenResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { EntityDefinition, ReferenceDefinition } from '../metadata/entity-definition.interface.js';
import { METADATA_KEYS } from '../common/metadata.constants.js';
import { ENTITIES_MODULE_OPTIONS } from '../common/entity-tokens.util.js';
import { getRepositoryToken } from '../metadata/repository-token.util.js';
import type { AccessDecision } from '../repository/access-policy.interface.js';
import type { DecidedContext } from '../repository/decided-context.interface.js';
import { EntityAccess } from '../permission/entity-access.service.js';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { EntitiesTelemetry } from '../telemetry/entities-telemetry.service.js';
import { documentReplication } from './replication-docs.util.js';
import type { RouteGate, RouteServices } from './route.gate.js';
import type { EntityChange } from '../repository/entity-change.interface.js';
import type { EntityRepository } from '../repository/entity.repository.js';
import { latestStateOf, recordExisted } from '../repository/record-past.util.js';
import type { RepositoryWriteContext } from '../repository/repository-write-context.interface.js';
import { streamChanges } from './change-stream.util.js';
import { AuditService } from '../audit/audit.service.js';
import { EntityCache } from '../cache/entity-cache.service.js';
import { EntityStorage } from '../storage/entity-storage.store.js';
import { RecordNotFoundException } from '../storage/record-not-found.exception.js';
import { createBodyValidator, validateBatch } from './entity-body.util.js';
import { classStem, followStems } from './class-stem.util.js';
import type { EntityDtos } from './entity-dto.factory.js';
import { entityRouteDocs } from './entity-route-docs.decorator.js';
import { StoreRouteDocs } from './store-route-docs.decorator.js';
import { etagOf, noneMatchHolds, writeConditionsOf } from './if-match.util.js';
import { includeOf } from './include-query.util.js';
import { parseListQuery } from './list-query.util.js';
import { auditFieldsOf, toAuditView } from './audit-view.util.js';
import { toHistoryResponse } from './history-view.util.js';
import { idempotencyKeyOf, paramOf, requestMetaOf, type HttpRequest } from './request-meta.util.js';
import { createEntityRouteGates, refuseThrough, type EntityRouteName } from './entity-route-gates.util.js';
import {
  afterSeqOf,
  auditPageQuery,
  diffQuery,
  historyPageQuery,
  pastPointQuery,
  purgeRequested,
  searchOf,
  type PastPointQuery,
} from './entity-route-query.util.js';
import { revertVersionOf } from './revert-body.util.js';
import { readerOf, writeContextOf, type RouteWriteOptions } from './route-context.util.js';
import { listKeyOf, viewKeyOf } from './read-cache-key.util.js';

/**
 * Builds the REST controller of one entity: a real class per entity, named after it,
 * with the routes, status codes and headers the README documents, all served by the entity's
 * repository. Built in `forFeature()` because Nest registers routes before any
 * `onModuleInit`.
 */
export function createEntityController(definition: EntityDefinition, dtos: EntityDtos): Type<unknown> {
  const createBody = createBodyValidator(dtos.create);
  const replaceBody = dtos.replace === dtos.create ? createBody : createBodyValidator(dtos.replace);
  const updateBody = createBodyValidator(dtos.update);
  const name = definition.name;
  const docs = entityRouteDocs(definition, dtos);
  // Routes that only an entity with soft delete has: without it, the method is no route at all.
  const onlyWithSoftDelete = (decorator: MethodDecorator): MethodDecorator => (definition.softDelete ? decorator : () => undefined);

  @ApiTags(name)
  @StoreRouteDocs()
  @ApiUnauthorizedResponse({ description: 'The action needs a principal and the request has none' })
  @ApiForbiddenResponse({ description: 'The principal lacks the permission' })
  @Controller(definition.path)
  @SetMetadata(METADATA_KEYS.definition, definition)
  class EntityController {
    /** Each route's stages (request id, metrics, access, body and id checks): see `RouteGate`. */
    protected readonly routes: Record<EntityRouteName, RouteGate>;
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
      protected readonly storage: EntityStorage,
    ) {
      storage.claimRoutes(definition);
      this.targetOf = (reference) => storage.referenceTarget(definition, reference);
      if (storage.replication) documentReplication(Object.getPrototypeOf(this) as object);
      const services: RouteServices = { definition, options, access, audit, telemetry, adapterHost, replication: storage.replication };
      this.routes = createEntityRouteGates(services, { create: createBody, replace: replaceBody, update: updateBody });
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
          () => listKeyOf(url),
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
        await streamChanges(response, changes as AsyncIterableIterator<EntityChange>, abort, this.storage.subscriptions.endSignal);
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
          return refuseThrough(search.has('version') || search.has('asOf') ? this.routes.findAt : this.routes.findOne, request, response, id, error);
        }
        if (point) return this.findAt(request, response, id, point);
        if (include) return this.findIncluding(request, response, id, include);
      }
      // Chained rather than awaited: the hottest route makes as few promises as it can (see RouteGate).
      const load = (decision: AccessDecision) => () => this.repository.findById(id, readerOf(decision));
      return this.routes.findOne.serve(request, response, id, (decision) =>
        this.cachedRead(decision, () => `id:${id}`, load(decision)).then((view) => {
          if (!view) throw new RecordNotFoundException(name, id);
          const answer = this.respond(response, view);
          if (!noneMatchHolds(request.headers['if-none-match'], view.version)) return answer;
          // Answered here for every platform: Express alone would work out a 304 of its own, Fastify never.
          this.adapterHost.httpAdapter.status(response, 304);
          return undefined;
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
        const view = await this.repository.findById(id, Object.assign(readerOf(decision), { include }));
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
        const context = this.context(request, decision, writeConditionsOf(request.headers));
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
        purge = purgeRequested(this.adapterHost.httpAdapter.getRequestUrl(request) as string) && definition.softDelete;
      } catch (error) {
        return refuseThrough(this.routes.remove, request, response, id, error);
      }
      const route = purge ? this.routes.purge : this.routes.remove;
      return route.serve(request, response, id, async (decision) => {
        const context = this.context(request, decision, writeConditionsOf(request.headers));
        await (purge ? this.repository.purge(id, context) : this.repository.delete(id, context));
      });
    }

    @onlyWithSoftDelete(Post(':id/restore'))
    @onlyWithSoftDelete(HttpCode(200))
    @onlyWithSoftDelete(docs.restore())
    restore(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      const id = paramOf(request, 'id');
      return this.routes.restore.serve(request, response, id, async (decision, body) => {
        if (Array.isArray(body) || Object.keys(body as object).length > 0) throw new BadRequestException('restore takes no fields: send {}');
        const context = this.context(request, decision, writeConditionsOf(request.headers));
        return this.respond(response, await this.repository.restore(id, context));
      });
    }

    @Get(':id/history')
    @docs.history()
    history(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      const id = paramOf(request, 'id');
      return this.routes.history.serve(request, response, id, async (decision) => {
        const page = historyPageQuery(this.adapterHost.httpAdapter.getRequestUrl(request) as string, definition);
        const view = await this.cachedRead(
          decision,
          // From the page read, not the query string: one key per page however it is spelled.
          () => `history:${id}:${page.field ?? ''}:${page.limit ?? ''}:${page.before ?? ''}`,
          async () => {
            const history = await this.repository.history(id, Object.assign(readerOf(decision), page));
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
        const context = this.context(request, decision, writeConditionsOf(request.headers));
        return this.respond(response, await write(id, body, context));
      });
    }

    /** The write context of a request, with its details for the audit trail (see `writeContextOf`). */
    protected context(request: HttpRequest, decision: AccessDecision, extra: RouteWriteOptions): RepositoryWriteContext & DecidedContext {
      return writeContextOf(decision, extra, requestMetaOf(request, this.adapterHost.httpAdapter.getRequestUrl(request) as string));
    }

    /** A read through the cache when the entity is cached; straight from `load` otherwise. */
    protected cachedRead<V>(decision: AccessDecision, key: () => string, load: () => Promise<V>): Promise<V> {
      if (!this.cache.caches(definition)) return load();
      // The view is named once the cache has renewed the snapshot: one naming the grants' version
      // must not match an entry cached before another process's acknowledged revoke.
      return this.cache.read(definition, () => viewKeyOf(this.access, definition, decision), key(), load);
    }

    /** A record, as the repository shaped it for the route's decision, with its ETag. */
    protected respond<R extends { version: number }>(response: object, record: R): R {
      this.adapterHost.httpAdapter.setHeader(response, 'ETag', etagOf(record.version));
      return record;
    }
  }

  const auditFields = auditFieldsOf(definition);
  // The audit route exists only for @Audited entities: others keep no trail to answer from.
  class AuditedEntityController extends EntityController {
    @Get(':id/audit')
    @docs.audit()
    auditTrail(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      const id = paramOf(request, 'id');
      return this.routes.audit.serve(request, response, id, async (decision) => {
        const page = auditPageQuery(this.adapterHost.httpAdapter.getRequestUrl(request) as string);
        // Only a record that exists or existed has a trail; refused writes naming other ids do not make one.
        if (!recordExisted(this.storage, definition, id)) throw new RecordNotFoundException(name, id);
        const { items, nextCursor } = await this.audit.find({ entity: name, id, ...page });
        // By default audit follows update's rule, and one that may change a record but not read it
        // sees who changed what, not the values; an entity naming an audit rule of its own shows them to its auditors.
        // A purged record is judged by its id alone (grants name it).
        const record = latestStateOf(this.storage, definition, id) ?? { id, version: 0, createdAt: '', updatedAt: '' };
        const readable = definition.permissions?.audit !== undefined || this.access.mayRead(definition, decision.principal, decision.permissions, record);
        const unreadable = readable ? this.access.unreadableFields(definition, decision) : 'all';
        const views = items.map((entry) => toAuditView(entry, unreadable, auditFields));
        // A trail that fits one page is answered as the API names it, without a cursor.
        return nextCursor === null ? { items: views } : { items: views, nextCursor };
      });
    }
  }

  const controller = definition.audited ? AuditedEntityController : EntityController;
  // Swagger names operations after the controller: `PermitEntityController_create`, which an app's
  // own `PermitController` (routes of its own about permits) does not share.
  followStems([definition], controller, () => Object.defineProperty(controller, 'name', { value: `${classStem(definition)}EntityController` }));
  return controller;
}
