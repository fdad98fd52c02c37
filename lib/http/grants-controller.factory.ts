import { Controller, Delete, Get, HttpCode, Inject, Post, Req, Res, SetMetadata, ValidationPipe, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiProperty,
  ApiSchema,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { ArrayNotEmpty, ArrayUnique, IsArray, IsIn, IsString, Length } from 'class-validator';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { ENTITIES_MODULE_OPTIONS } from '../common/entity-tokens.util.js';
import { getRepositoryToken } from '../metadata/repository-token.util.js';
import { METADATA_KEYS } from '../common/metadata.constants.js';
import { AuditService } from '../audit/audit.service.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { AclService } from '../permission/acl.service.js';
import { isSubject, RECORD_RIGHTS, type RecordRight } from '../permission/acl-subjects.util.js';
import { EntityAccess } from '../permission/entity-access.service.js';
import type { EntityRepository } from '../repository/entity.repository.js';
import { RecordNotFoundException } from '../storage/record-not-found.exception.js';
import { EntitiesTelemetry } from '../telemetry/entities-telemetry.service.js';
import { pipeValidator } from './entity-body.util.js';
import { classStem, followStems } from './class-stem.util.js';
import { aRecordOf } from './entity-dto.factory.js';
import { IdParam } from './entity-route-docs.decorator.js';
import { StoreRouteDocs } from './store-route-docs.decorator.js';
import { paramOf, type HttpRequest } from './request-meta.util.js';
import { documentReplication } from './replication-docs.util.js';
import { RouteGate, type RouteServices } from './route.gate.js';
import { EntityStorage } from '../storage/entity-storage.store.js';

/** A grant as sent to and returned by the grants routes. */
@ApiSchema({ name: 'RecordGrant' })
class GrantBody {
  @ApiProperty({
    description: 'A user id, or group:<name>: 1 to 200 characters (after group:), no spaces',
    example: 'group:auditors',
    minLength: 1,
    maxLength: 206,
    pattern: '^\\S+$',
  })
  @IsString()
  @Length(1, 206)
  subject!: string;

  @ApiProperty({ enum: RECORD_RIGHTS, isArray: true, example: ['read'], minItems: 1, uniqueItems: true })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(RECORD_RIGHTS, { each: true })
  rights!: RecordRight[];
}

@ApiSchema({ name: 'RecordGrantList' })
class GrantList {
  @ApiProperty({ type: GrantBody, isArray: true }) items!: GrantBody[];
}

const grantPipe = new ValidationPipe({ expectedType: GrantBody, whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });

/**
 * The record-level grants routes of an entity with `@Permission`: list, add and remove
 * grants on one record. All three need the entity's `admin` permission.
 */
export function createGrantsController(definition: EntityDefinition): Type<unknown> {
  const name = definition.name;
  const aRecord = aRecordOf(definition);

  @ApiTags(name)
  @StoreRouteDocs()
  @ApiUnauthorizedResponse({ description: 'The action needs a principal and the request has none' })
  @ApiForbiddenResponse({ description: "The principal lacks the entity's admin permission" })
  @ApiNotFoundResponse({ description: 'No record has this id' })
  @Controller(`${definition.path}/:id/grants`)
  @SetMetadata(METADATA_KEYS.definition, definition)
  class GrantsController {
    /** The same stages as the entity's own routes (request id, metrics, access, body and id checks): see `RouteGate`. */
    private readonly routes: Record<'list' | 'add' | 'remove', RouteGate>;

    constructor(
      @Inject(getRepositoryToken(definition.target)) private readonly repository: EntityRepository<object>,
      private readonly acl: AclService,
      adapterHost: HttpAdapterHost,
      access: EntityAccess,
      audit: AuditService,
      @Inject(ENTITIES_MODULE_OPTIONS) options: EntitiesModuleOptions,
      telemetry: EntitiesTelemetry,
      storage: EntityStorage,
    ) {
      if (storage.replication) documentReplication(Object.getPrototypeOf(this) as object);
      const services: RouteServices = { definition, options, access, audit, telemetry, adapterHost, replication: storage.replication };
      this.routes = {
        list: new RouteGate(services, 'GET', ':id/grants', 'admin'),
        add: new RouteGate(services, 'POST', ':id/grants', 'admin', pipeValidator(grantPipe)),
        remove: new RouteGate(services, 'DELETE', ':id/grants/:subject', 'admin'),
      };
    }

    @Get()
    @ApiOperation({ summary: `Grants on ${aRecord}` })
    @ApiOkResponse({ type: GrantList })
    @IdParam()
    list(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      const id = paramOf(request, 'id');
      return this.routes.list.serve(request, response, id, async () => {
        await this.existing(id);
        return { items: this.acl.grantsOn(name, id) };
      });
    }

    @Post()
    @ApiOperation({ summary: `Grant rights on ${aRecord} to a user or group:<name>` })
    @ApiBody({ type: GrantBody })
    @ApiUnsupportedMediaTypeResponse({ description: 'The body is not sent as JSON (Content-Type: application/json)' })
    @ApiCreatedResponse({ type: GrantBody })
    @ApiBadRequestResponse({ description: 'The body is not { subject, rights }, a subject is malformed, or a right is unknown' })
    @ApiPayloadTooLargeResponse({ description: 'The body is too large' })
    @IdParam()
    add(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object) {
      const id = paramOf(request, 'id');
      return this.routes.add.serve(request, response, id, async (_decision, body) => {
        const grant = body as GrantBody;
        await this.existing(id);
        return this.acl.grant(grant.subject, name, id, grant.rights);
      });
    }

    @Delete(':subject')
    @HttpCode(204)
    @ApiOperation({ summary: `Remove a subject's grant on ${aRecord}` })
    @ApiNoContentResponse({ description: 'Removed' })
    // Listed in path order: Swagger collects decorators bottom-up.
    @ApiParam({ name: 'subject', required: true, type: String })
    @IdParam()
    remove(@Req() request: HttpRequest, @Res({ passthrough: true }) response: object): Promise<void> {
      const id = paramOf(request, 'id');
      const subject = paramOf(request, 'subject');
      return this.routes.remove.serve(request, response, id, async () => {
        // A subject no grant can have (too long for an lmdb key, say) is answered like one without a grant, as ids are.
        if (!isSubject(subject)) throw new RecordNotFoundException(`${name} grant`, subject);
        if (!(await this.acl.revoke(subject, name, id))) throw new RecordNotFoundException(`${name} grant`, subject);
      });
    }

    private async existing(id: string): Promise<void> {
      if (!(await this.repository.findById(id))) throw new RecordNotFoundException(name, id);
    }
  }

  followStems([definition], GrantsController, () => Object.defineProperty(GrantsController, 'name', { value: `${classStem(definition)}GrantsController` }));
  return GrantsController;
}
