import { DELETED_AT } from '../common/metadata.constants.js';
import type { Type } from '@nestjs/common';
import { ApiProperty, ApiSchema, PartialType, PickType, type ApiPropertyOptions } from '@nestjs/swagger';
import { IsBoolean, IsNumber, IsOptional, IsString, ValidateBy } from 'class-validator';
import { storableTimeOf } from '../common/date-value.util.js';
import type { EntityDefinition, FieldDefinition, ReferenceDefinition } from '../metadata/entity-definition.interface.js';
import { referenceTarget } from '../metadata/reference-target.util.js';
import { nameableReferences } from '../metadata/reference-names.util.js';
import { classStem, followStems } from './class-stem.util.js';
import { checkDefaultsKeepRules } from './default-rules-check.util.js';

/** The classes that describe an entity's bodies and responses to validation and OpenAPI. */
export interface EntityDtos {
  /** Body of POST: every writable field, required ones required. */
  create: Type<object>;
  /**
   * Body of PUT: the create body, except that a required field some principal cannot see or
   * write (hidden, under a field rule, or every field of an entity with a read rule) may be left
   * out, its stored value kept; the store refuses it missing from a principal who could have sent it.
   */
  replace: Type<object>;
  /** Body of PATCH: every field optional. */
  update: Type<object>;
  /** A returned record: visible fields plus the managed ones. */
  record: Type<object>;
  /** A page of `GET /P`. */
  page: Type<object>;
  /** The body of `GET /P/:id/history`. */
  history: Type<object>;
  /** The body of `GET /P/:id/audit`. */
  audit: Type<object>;
  /** The body of `GET /P/:id/diff`. */
  diff: Type<object>;
}

/** One value in a field's history. */
@ApiSchema({ name: 'FieldHistoryEntry' })
class FieldHistoryEntryView {
  // `nullable` counts only beside a `type` in OpenAPI 3.0, so null is a branch of its own.
  @ApiProperty({ description: 'The value (null when cleared)', oneOf: [{ type: 'string', nullable: true }, { type: 'number' }, { type: 'boolean' }] })
  value!: unknown;
  @ApiProperty({ type: 'integer', description: 'Record version that set it', example: 2 }) version!: number;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Principal id of who set it; null for an anonymous write' }) actor!: string | null;
}

/** One entry of a record's audit trail. */
@ApiSchema({ name: 'AuditEntry' })
class AuditEntryView {
  @ApiProperty({ enum: ['create', 'replace', 'update', 'delete', 'restore', 'purge', 'denied'] }) action!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Principal id, or the actor of a repository write; null for an anonymous one' })
  actor!: string | null;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Record version the change made; null for a refused write', example: 2 })
  version!: number | null;
  @ApiProperty({
    type: 'integer',
    required: false,
    description: 'On an update made by a schema migration: the entity version it brought the record to',
    example: 2,
  })
  migration?: number;
  @ApiProperty({
    type: Object,
    additionalProperties: { type: 'object', properties: { from: {}, to: {} } },
    description: 'Per changed field, its value before and after; hidden fields show "[hidden]"',
  } as ApiPropertyOptions)
  changes!: Record<string, unknown>;
  @ApiProperty({
    required: false,
    type: Object,
    properties: { id: { type: 'string' }, ip: { type: 'string' }, route: { type: 'string' } },
    description: 'The request that made the change',
  } as ApiPropertyOptions)
  request?: Record<string, string>;
}

/** "a Permit", "an Inspection": the entity's class name with its indefinite article, for summaries. */
export function aRecordOf(definition: EntityDefinition): string {
  const noun = classStem(definition);
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/**
 * Builds real classes per entity and verb. Nest's ValidationPipe skips generic or
 * `Object` types, and Swagger needs a named schema per body, so each gets its own class.
 * `PickType` carries the user's class-validator and Swagger metadata over from the
 * entity; the package adds the type checks and schema every field needs.
 */
export function createEntityDtos(definition: EntityDefinition): EntityDtos {
  // The owner field is stamped by the package, never taken from a body.
  const writable = definition.fields.filter((field) => field.name !== definition.permissions?.owner);
  const fieldNames = writable.map((field) => field.name) as (keyof object)[];

  const create = named(definition, PickType(definition.target as Type<object>, fieldNames), (stem) => `Create${stem}Dto`);
  for (const field of writable) {
    const optional = !field.required || field.default !== undefined;
    const { default: _default, ...schema } = fieldSchema(field);
    decorateProperty(create, field.name, [
      typeValidator(field),
      ...(optional ? [IsOptional()] : []),
      ApiProperty({ ...schema, required: !optional } as ApiPropertyOptions),
    ]);
  }

  checkDefaultsKeepRules(definition, create, writable);

  // Copied from the create body before it is given defaults: a PATCH leaves a field it does not name as it is.
  const update = named(definition, PartialType(create), (stem) => `Update${stem}Dto`);
  for (const field of writable) {
    // A create or PUT takes null for a field it may leave out; a PATCH clears an optional field with it.
    const optional = !field.required || field.default !== undefined;
    if (optional) decorateProperty(create, field.name, [ApiProperty({ ...nullable(field), ...(field.default !== undefined && { default: field.default }) })]);
    if (!field.required) decorateProperty(update, field.name, [ApiProperty(nullable(field))]);
  }
  // With a read rule (or its default), a caller may hold update without read (a rule, an owner's, a grant): every field is unseen to it.
  const unseenRecords = definition.permissions !== undefined && definition.permissions.read !== null;
  const keptByPut = writable.filter(
    (field) => field.required && field.default === undefined && (unseenRecords || field.hidden || field.permission?.read || field.permission?.write),
  );
  const replace = keptByPut.length === 0 ? create : named(definition, PickType(create, fieldNames), (stem) => `Replace${stem}Dto`);
  for (const field of keptByPut) decorateProperty(replace, field.name, [IsOptional(), ApiProperty({ required: false })]);

  const record = named(definition, class {}, (stem) => `${stem}Record`);
  decorateProperty(record, 'id', [ApiProperty({ type: String, description: 'Time-ordered ULID', example: '01JD3Q4ZB6WQ6V4M9KX2T8R7HN' })]);
  decorateProperty(record, 'version', [ApiProperty({ type: 'integer', description: '1 on create, +1 on each change', example: 1 })]);
  decorateProperty(record, 'createdAt', [ApiProperty({ type: String, format: 'date-time' })]);
  decorateProperty(record, 'updatedAt', [ApiProperty({ type: String, format: 'date-time' })]);
  for (const field of definition.fields) {
    // A field with a read rule is left out of the records answered to those who may not read it.
    const present = field.required && !field.permission?.read;
    if (!field.hidden) decorateProperty(record, field.name, [ApiProperty({ ...fieldSchema(field), required: present } as ApiPropertyOptions)]);
  }
  if (definition.softDelete) {
    decorateProperty(record, DELETED_AT, [
      ApiProperty({
        type: String,
        format: 'date-time',
        required: false,
        description: 'When the record was deleted: only on deleted records (`deleted=include|only`)',
      }),
    ]);
  }

  for (const reference of nameableReferences(definition)) {
    decorateProperty(record, reference.as!, [
      ApiProperty({
        type: 'object',
        additionalProperties: true,
        nullable: true,
        selfRequired: false,
        description: `Only with include=${reference.as}: the ${targetNameOf(definition, reference)} record ${reference.field} refers to, as the caller may read it, or null`,
      }),
    ]);
  }

  const page = named(definition, class {}, (stem) => `${stem}Page`);
  decorateProperty(page, 'items', [ApiProperty({ type: record, isArray: true })]);
  decorateProperty(page, 'nextCursor', [
    ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' }),
  ]);

  const historyFields = named(definition, class {}, (stem) => `${stem}HistoryFields`);
  for (const field of definition.fields) {
    if (field.history !== 'never' && !field.hidden) {
      // Only the fields asked for (`field=`), and that the caller may read, are in an answer.
      decorateProperty(historyFields, field.name, [ApiProperty({ type: FieldHistoryEntryView, isArray: true, required: false })]);
    }
  }
  const history = named(definition, class {}, (stem) => `${stem}History`);
  decorateProperty(history, 'id', [ApiProperty({ type: String })]);
  decorateProperty(history, 'fields', [ApiProperty({ type: historyFields, description: 'Per historized field, newest first' })]);

  const audit = named(definition, class {}, (stem) => `${stem}AuditTrail`);
  decorateProperty(audit, 'items', [ApiProperty({ type: AuditEntryView, isArray: true, description: 'Oldest first' })]);
  decorateProperty(audit, 'nextCursor', [
    ApiProperty({ type: String, required: false, description: 'Present when the trail goes on: pass as `cursor` for the next page' }),
  ]);

  const diff = named(definition, class {}, (stem) => `${stem}Diff`);
  decorateProperty(diff, 'id', [ApiProperty({ type: String })]);
  decorateProperty(diff, 'from', [ApiProperty({ type: 'integer', description: 'The version compared from' })]);
  decorateProperty(diff, 'to', [ApiProperty({ type: 'integer', description: 'The version compared to' })]);
  decorateProperty(diff, 'changes', [
    ApiProperty({
      type: 'object',
      additionalProperties: { type: 'object', properties: { from: {}, to: {} } },
      description: 'Per field that differs: { from, to }, null for a value not set',
      example: { status: { from: 'draft', to: 'approved' } },
    } as ApiPropertyOptions),
  ]);

  return { create, replace, update, record, page, history, audit, diff };
}

/** What marks a field's schema as taking null: a strict validator checks an `enum` before `nullable`, so null joins it. */
function nullable(field: FieldDefinition): ApiPropertyOptions {
  const values = field.constraints.enum;
  return { nullable: true, ...(values && { enum: [...values, null] as string[] }) } as ApiPropertyOptions;
}

/** Names a generated class (and its schema) after the entity's stem, now and whenever it changes. */
function named<T extends Type<object>>(definition: EntityDefinition, type: T, nameOf: (stem: string) => string): T {
  followStems([definition], type, () => {
    const name = nameOf(classStem(definition));
    Object.defineProperty(type, 'name', { value: name });
    ApiSchema({ name })(type);
  });
  return type;
}

function decorateProperty(type: Type<object>, property: string, decorators: PropertyDecorator[]): void {
  for (const decorator of decorators) decorator(type.prototype, property);
}

function typeValidator(field: FieldDefinition): PropertyDecorator {
  switch (field.type) {
    case 'string':
      return IsString();
    case 'number':
      return IsNumber({ allowNaN: false, allowInfinity: false });
    case 'boolean':
      return IsBoolean();
    case 'date':
      // The store's own date rule, so the body check and the write never disagree on a value.
      return ValidateBy(
        {
          name: 'isStorableDate',
          validator: { validate: (value: unknown) => typeof value === 'string' && storableTimeOf(value) !== undefined },
        },
        { message: `${field.name} must be an ISO 8601 date string` },
      );
  }
}

/** The OpenAPI schema of a field, from its type, options and class-validator constraints. */
export function fieldSchema(field: FieldDefinition): ApiPropertyOptions {
  const { enum: values, integer, ...limits } = field.constraints;
  return {
    type: field.type === 'number' ? (integer ? 'integer' : Number) : field.type === 'boolean' ? Boolean : String,
    ...(field.type === 'date' && { format: 'date-time' }),
    ...(values && { enum: [...values] as string[] }),
    ...limits,
    ...(field.description !== undefined && { description: field.description }),
    ...(field.example !== undefined && { example: field.example }),
    ...(field.default !== undefined && { default: field.default }),
  } as ApiPropertyOptions;
}

/** The name of the class a reference names, for a description: one that is no entity fails start-up later, naming the field. */
function targetNameOf(definition: EntityDefinition, reference: ReferenceDefinition): string {
  const target = referenceTarget(definition, reference);
  return typeof target === 'function' ? target.name : 'referenced';
}
