import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  SetMetadata,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
  type Type,
} from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiSchema,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { ArrayNotEmpty, ArrayUnique, IsArray, IsIn, IsString, Length } from 'class-validator';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { METADATA_KEYS } from '../common/metadata.constants.js';
import { getRepositoryToken } from '../common/entity-tokens.util.js';
import { AclService, isSubject, RECORD_RIGHTS, type RecordRight } from '../permission/acl.service.js';
import type { EntityRepository } from '../repository/entity.repository.js';
import { RecordNotFoundException } from '../storage/record-not-found.exception.js';
import { aRecordOf, classStem } from './entity-dto.factory.js';
import { EntityAccessGuard } from './entity-access.guard.js';
import { EntityRequestGuard } from './entity-request.guard.js';
import { EntityRouteInterceptor } from './entity-route.interceptor.js';
import { RecordIdPipe } from './record-id.pipe.js';

/** A grant as sent to and returned by the grants routes. */
@ApiSchema({ name: 'RecordGrant' })
class GrantBody {
  @ApiProperty({ description: 'A user id, or group:<name>', example: 'group:auditors' })
  @IsString()
  @Length(1, 206)
  subject!: string;

  @ApiProperty({ enum: RECORD_RIGHTS, isArray: true, example: ['read'] })
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
  const idPipe = new RecordIdPipe(name);
  const noun = classStem(definition);
  const aRecord = aRecordOf(definition);

  @ApiTags(name)
  @ApiUnauthorizedResponse({ description: 'The action needs a principal and the request has none' })
  @ApiForbiddenResponse({ description: "The principal lacks the entity's admin permission" })
  @ApiNotFoundResponse({ description: 'No record has this id' })
  @Controller(`${definition.path}/:id/grants`)
  @SetMetadata(METADATA_KEYS.definition, definition)
  @SetMetadata(METADATA_KEYS.action, 'admin')
  @UseGuards(EntityRequestGuard, EntityAccessGuard)
  @UseInterceptors(EntityRouteInterceptor)
  class GrantsController {
    constructor(
      @Inject(getRepositoryToken(definition.target)) private readonly repository: EntityRepository<object>,
      private readonly acl: AclService,
    ) {}

    @Get()
    @ApiOperation({ summary: `Grants on ${aRecord}` })
    @ApiOkResponse({ type: GrantList })
    async list(@Param('id', idPipe) id: string) {
      await this.existing(id);
      return { items: this.acl.grantsOn(name, id) };
    }

    @Post()
    @ApiOperation({ summary: `Grant rights on ${aRecord} to a user or group:<name>` })
    @ApiBody({ type: GrantBody })
    @ApiUnsupportedMediaTypeResponse({ description: 'The body is not sent as JSON (Content-Type: application/json)' })
    @ApiCreatedResponse({ type: GrantBody })
    async add(@Param('id', idPipe) id: string, @Body(grantPipe) body: GrantBody) {
      await this.existing(id);
      return this.acl.grant(body.subject, name, id, body.rights);
    }

    @Delete(':subject')
    @HttpCode(204)
    @ApiOperation({ summary: `Remove a subject's grant on ${aRecord}` })
    @ApiNoContentResponse({ description: 'Removed' })
    async remove(@Param('id', idPipe) id: string, @Param('subject') subject: string): Promise<void> {
      // A subject no grant can have (too long for an lmdb key, say) is answered like one without a grant, as ids are.
      if (!isSubject(subject)) throw new RecordNotFoundException(`${name} grant`, subject);
      if (!(await this.acl.revoke(subject, name, id))) throw new RecordNotFoundException(`${name} grant`, subject);
    }

    private async existing(id: string): Promise<void> {
      if (!(await this.repository.findById(id))) throw new RecordNotFoundException(name, id);
    }
  }

  Object.defineProperty(GrantsController, 'name', { value: `${noun}GrantsController` });
  return GrantsController;
}
