import { applyDecorators } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import { FILTER_OPERATORS } from '../common/filter-operators.constants.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../common/page-limits.constants.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { nameableReferences } from '../metadata/reference-names.util.js';
import { fieldSchema } from './entity-dto.factory.js';

/** Names the parameter that carries filters with an operator; it never appears in a query string. */
const FILTERS_PARAMETER = 'filters';
const LIST_PARAMETERS: ReadonlySet<string> = new Set(['sort', 'limit', 'cursor', 'include']);

/**
 * The list route's query parameters in OpenAPI: one equality filter per visible field, the
 * filters with an operator or on a managed field as one exploded object (so Swagger UI and
 * generated clients can send `amount[gte]=100`), then sort, limit, cursor, include.
 */
export function ListQueryParameters(definition: EntityDefinition, routeField?: string): MethodDecorator {
  const visible = definition.fields.filter((field) => !field.hidden);
  // A route that sets a field itself (the records referring to one record) takes no filter on it.
  const filterable = visible.filter((field) => field.name !== routeField);
  const sortable = ['id', 'createdAt', 'updatedAt', 'version', ...visible.map((field) => field.name)];
  return applyDecorators(
    ...filterable.map((field) => {
      const operators = FILTER_OPERATORS.filter((op) => op !== 'eq' && (op !== 'prefix' || field.type === 'string')).join('|');
      // No example or default here: Swagger UI would pre-fill them and filter the list.
      const { example: _example, default: _default, ...schema } = fieldSchema(field) as Record<string, unknown>;
      // A field named like one of the list's own parameters (`limit`) filters by `limit[eq]` only.
      const spelled = isListParameter(definition, field.name) ? `${field.name}[eq]` : field.name;
      return ApiQuery({
        ...schema,
        name: spelled,
        required: false,
        description: `Equality filter; also ${field.name}[${operators}]`,
      } as never);
    }),
    ...(visible.some((field) => field.name === FILTERS_PARAMETER) ? [] : [OperatorFilters()]),
    ApiQuery({ name: 'sort', required: false, enum: sortable.flatMap((field) => [field, `-${field}`]), description: 'Sort field, `-` for descending' }),
    ApiQuery({ name: 'limit', required: false, type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: `Page size (default ${DEFAULT_LIMIT})` }),
    ApiQuery({ name: 'cursor', required: false, type: String, description: 'The `nextCursor` of the previous page' }),
    ...IncludeParameter(definition),
    ...(definition.softDelete
      ? [
          ApiQuery({
            name: 'deleted',
            required: false,
            enum: ['exclude', 'include', 'only'],
            description: 'Deleted records too (`include`) or only them (`only`), with `deletedAt`; needs the delete permission. Default `exclude`',
          }),
        ]
      : []),
  );
}

/** The names callers may `include` (see `nameableReferences`). */
export function includableNames(definition: EntityDefinition): string[] {
  return nameableReferences(definition).map((reference) => reference.as!);
}

/** `include` in OpenAPI, for an entity with names to include: none otherwise. */
export function IncludeParameter(definition: EntityDefinition): MethodDecorator[] {
  const names = includableNames(definition);
  if (names.length === 0) return [];
  return [
    ApiQuery({
      name: 'include',
      required: false,
      isArray: true,
      enum: names,
      style: 'form',
      explode: false,
      description: 'References to add to each record, comma-separated: each as the record it refers to, as the caller may read it, or null',
    }),
  ];
}

/**
 * An object whose each property is one query parameter (`style: form`, `explode: true`):
 * `{ "amount[gte]": "100", "createdAt[lt]": "2026-12-01" }` is sent as
 * `amount[gte]=100&createdAt[lt]=2026-12-01`. Its empty example keeps Swagger UI from filling in
 * properties of its own, which would be sent as unknown fields.
 */
function OperatorFilters(): MethodDecorator {
  return ApiQuery({
    name: FILTERS_PARAMETER,
    required: false,
    style: 'form',
    explode: true,
    schema: { type: 'object', additionalProperties: { type: 'string' }, example: {} },
    description:
      `Filters with an operator, one property each: \`field[op]\` with op one of ${FILTER_OPERATORS.join(', ')} ` +
      '(`in` takes comma-separated values, `prefix` strings only); also on `id`, `version`, `createdAt` and `updatedAt`. ' +
      'Each property is sent as its own query parameter, e.g. `{ "amount[gte]": "100" }` as `amount[gte]=100`.',
  } as never);
}

/** Whether `GET /P?name=` reads `name` as the list's own parameter rather than a field's filter (see `parseListQuery`). */
function isListParameter(definition: EntityDefinition, name: string): boolean {
  return LIST_PARAMETERS.has(name) || (name === 'deleted' && !!definition.softDelete);
}
