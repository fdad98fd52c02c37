import { BadRequestException, Controller, Get, Inject, Req, Res, SetMetadata, type Type } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AuditService } from '../audit/audit.service.js';
import { ENTITIES_MODULE_OPTIONS } from '../common/entity-tokens.util.js';
import { getRepositoryToken } from '../metadata/repository-token.util.js';
import { METADATA_KEYS } from '../common/metadata.constants.js';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import type { EntityDefinition, ReferenceDefinition } from '../metadata/entity-definition.interface.js';
import { EntityAccess } from '../permission/entity-access.service.js';
import type { DecidedContext } from '../repository/decided-context.interface.js';
import type { EntityRepository } from '../repository/entity.repository.js';
import { EntityStorage } from '../storage/entity-storage.store.js';
import { RecordNotFoundException } from '../storage/record-not-found.exception.js';
import { EntitiesTelemetry } from '../telemetry/entities-telemetry.service.js';
import { classStem, followStems } from './class-stem.util.js';
import type { EntityDtos } from './entity-dto.factory.js';
import { IdParam } from './entity-route-docs.decorator.js';
import { StoreRouteDocs } from './store-route-docs.decorator.js';
import { ListQueryParameters } from './list-query-parameters.decorator.js';
import { includeOf } from './include-query.util.js';
import { parseListQuery } from './list-query.util.js';
import { paramOf, type HttpRequest } from './request-meta.util.js';
import { documentReplication } from './replication-docs.util.js';
import { RouteGate } from './route.gate.js';
import { EntityMetadataException } from '../metadata/entity-metadata.exception.js';

/** The routes below a record's own path; a nested route there would shadow one of them. */
const RECORD_ROUTES: ReadonlySet<string> = new Set(['history', 'audit', 'diff', 'restore', 'revert', 'grants']);

/**
 * The nested route of a `@Reference`: `GET /<target path>/:id/<source name>` lists the records
 * of `source` that refer to one record of the target, from the reference's index, with the
 * filters, sort and cursor of `GET /<source path>` (the reference field excepted: the route
 * sets it). It needs `read` on `source`, and the target record must be one the caller may
 * read: 401, 403 or 404 otherwise, as `GET /<target path>/:id` answers.
 */
export function createReferringListController(
  source: EntityDefinition,
  reference: ReferenceDefinition,
  target: EntityDefinition,
  dtos: EntityDtos,
): Type<unknown> {
  const segment = source.name;
  // Express matches routes ignoring case: `History` would answer `/:id/history` there.
  if (RECORD_ROUTES.has(segment.toLowerCase())) {
    throw new EntityMetadataException(
      source.target.name,
      reference.field,
      `the nested route /${target.path}/:id/${segment} would shadow a route of ${target.target.name}`,
    );
  }
  const path = `:id/${segment}`;

  @ApiTags(source.name)
  @StoreRouteDocs()
  @ApiUnauthorizedResponse({ description: 'The action needs a principal and the request has none' })
  @ApiForbiddenResponse({ description: 'The principal lacks the permission' })
  @SetMetadata(METADATA_KEYS.definition, source)
  @Controller(target.path)
  class ReferringListController {
    private readonly route: RouteGate;
    private readonly targetOf: (reference: ReferenceDefinition) => EntityDefinition;
    /** Looked up when first needed: the target's repository may come from another feature module. */
    private targets?: EntityRepository<object>;

    constructor(
      @Inject(getRepositoryToken(source.target)) private readonly repository: EntityRepository<object>,
      private readonly moduleRef: ModuleRef,
      private readonly adapterHost: HttpAdapterHost,
      access: EntityAccess,
      audit: AuditService,
      @Inject(ENTITIES_MODULE_OPTIONS) options: EntitiesModuleOptions,
      telemetry: EntitiesTelemetry,
      storage: EntityStorage,
    ) {
      storage.claimNestedRoute(target, source);
      if (storage.replication) documentReplication(Object.getPrototypeOf(this) as object);
      const services = { definition: source, options, access, audit, telemetry, adapterHost, replication: storage.replication };
      this.route = new RouteGate(services, 'GET', path, 'read', undefined, target.path);
      this.targetOf = (through) => storage.referenceTarget(source, through);
    }

    @Get(path)
    @ApiOperation({
      summary: `List the ${classStem(source)} records whose ${reference.field} is this ${classStem(target)}`,
      description: `Filters, sort and cursor as on GET /${source.path}; ${reference.field} is the route's.`,
    })
    @ListQueryParameters(source, reference.field)
    @ApiOkResponse({ type: dtos.page })
    @ApiBadRequestResponse({ description: `An unknown field, operator or malformed value, or a filter on ${reference.field}` })
    @ApiNotFoundResponse({ description: `No ${classStem(target)} the caller may read has this id` })
    @IdParam()
    list(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      const id = paramOf(request, 'id');
      return this.route.serve(request, response, id, async (decision) => {
        const url = this.adapterHost.httpAdapter.getRequestUrl(request) as string;
        const query = parseListQuery(source, url, this.targetOf);
        const include = includeOf(url);
        if (query.where?.[reference.field] !== undefined) throw new BadRequestException(`${reference.field} is set by the route; filter on other fields`);
        const principal = decision.principal ?? null;
        this.targets ??= this.moduleRef.get<EntityRepository<object>>(getRepositoryToken(target.target), { strict: false });
        if (!(await this.targets.findById(id, { principal }))) throw new RecordNotFoundException(target.name, id);
        const reader: DecidedContext = { principal, decision };
        return this.repository.find({ ...query, where: { ...query.where, [reference.field]: id } }, { ...reader, ...(include && { include }) });
      });
    }
  }

  followStems([source, target], ReferringListController, () =>
    Object.defineProperty(ReferringListController, 'name', { value: `${classStem(source)}By${classStem(target)}Controller` }),
  );
  return ReferringListController;
}
