import { BadRequestException } from '@nestjs/common';
import { isoDateOf } from '../common/date-value.util.js';
import { isFilterOperator } from '../common/filter-operators.constants.js';
import { FIELD_NAME } from '../common/metadata.constants.js';
import { MAX_LIMIT } from '../common/page-limits.constants.js';
import type { EntityDefinition, ReferenceDefinition } from '../metadata/entity-definition.interface.js';
import { referenceNamed } from '../metadata/reference-names.util.js';
import type { FindQuery } from '../query/find-query.interface.js';
import { queryableFieldType } from '../query/query-clause.util.js';
import { searchOf } from './entity-route-query.util.js';

const MAX_PARAMETERS = 64;
const MAX_IN_VALUES = 100;
/** `field` or `field[op]`, and through a reference `name.field` or `name.field[op]`. */
const PARAMETER = new RegExp(`^(?:(${FIELD_NAME.source.slice(1, -1)})\\.)?(${FIELD_NAME.source.slice(1, -1)})(?:\\[([a-z]+)\\])?$`);
/** JSON's number grammar, leading zeros allowed: no sign but `-`, no hex, binary or octal, no blanks, `Infinity` or `NaN`. */
const DECIMAL = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Reads `GET /P`'s query string (`status=open&amount[gte]=10&sort=-amount&limit=20`)
 * into a `FindQuery`, converting values to each field's type. The raw URL is parsed
 * here, so the result is the same whichever query parser the platform is set up with.
 * Hidden fields are treated as absent: filtering on them would reveal their values.
 */
export function parseListQuery(definition: EntityDefinition, url: string, targetOf?: (reference: ReferenceDefinition) => EntityDefinition): FindQuery {
  const search = searchOf(url);
  const query: FindQuery = {};
  const where: Record<string, Record<string, unknown>> = {};
  const seen = new Set<string>();
  // Counted before any is read, so a query of thousands of clauses costs nothing more.
  if ([...search.keys()].length > MAX_PARAMETERS) throw new BadRequestException(`at most ${MAX_PARAMETERS} query parameters are allowed`);
  for (const [key, raw] of search) {
    if (seen.has(key)) throw new BadRequestException(`query parameter ${key} is repeated`);
    seen.add(key);
    if (key === 'sort') query.sort = checkedSort(definition, raw);
    else if (key === 'limit') query.limit = parseLimit(raw);
    else if (key === 'cursor') query.cursor = raw;
    // What a page's records bring along, not which records: read by `includeOf`.
    else if (key === 'include') continue;
    // On an entity with soft delete, `deleted` picks the records listed, as `sort` picks their order.
    else if (key === 'deleted' && definition.softDelete) query.deleted = raw as FindQuery['deleted'];
    else {
      const match = PARAMETER.exec(key);
      const [through, field, op = 'eq'] = [match?.[1], match?.[2], match?.[3]];
      const owner = through === undefined ? definition : referredEntity(definition, key, through, targetOf);
      if (!field || !isVisibleField(owner, field)) {
        throw new BadRequestException(`unknown query parameter ${key}: ${owner.name} has no field ${field ?? key}`);
      }
      if (!isFilterOperator(op)) throw new BadRequestException(`unknown operator [${op}] in ${key}`);
      const type = queryableFieldType(owner, field)!;
      const value = op === 'in' ? splitList(key, raw).map((item) => convert(key, type, item)) : op === 'prefix' ? raw : convert(key, type, raw);
      const name = through === undefined ? field : `${through}.${field}`;
      const conditions = (where[name] ??= {});
      // `status=open&status[eq]=closed` says the same thing twice; refuse rather than pick one.
      if (Object.hasOwn(conditions, op)) throw new BadRequestException(`query parameter ${key} repeats a condition on ${name}`);
      conditions[op] = value;
    }
  }
  if (Object.keys(where).length > 0) query.where = where;
  return query;
}

/** The entity a `name.field` parameter filters through; a reference through a hidden field is as unknown as the field. */
function referredEntity(
  definition: EntityDefinition,
  key: string,
  name: string,
  targetOf: ((reference: ReferenceDefinition) => EntityDefinition) | undefined,
): EntityDefinition {
  const reference = referenceNamed(definition, name);
  if (!reference || !targetOf) throw new BadRequestException(`unknown query parameter ${key}: ${definition.name} has no reference named ${name}`);
  return targetOf(reference);
}

function isVisibleField(definition: EntityDefinition, field: string): boolean {
  const declared = definition.fieldsByName.get(field);
  return declared ? !declared.hidden : queryableFieldType(definition, field) !== undefined;
}

function checkedSort(definition: EntityDefinition, raw: string): string {
  const field = raw.startsWith('-') ? raw.slice(1) : raw;
  if (!isVisibleField(definition, field)) throw new BadRequestException(`cannot sort by ${field}: ${definition.name} has no such field`);
  return raw;
}

function parseLimit(raw: string): number {
  if (!/^\d{1,7}$/.test(raw)) throw new BadRequestException(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  return Number(raw);
}

function splitList(key: string, raw: string): string[] {
  // `''.split(',')` is `['']`: a list of one empty string, where `field[in]=` means none.
  if (raw === '') return [];
  const items = raw.split(',');
  if (items.length > MAX_IN_VALUES) throw new BadRequestException(`${key} lists more than ${MAX_IN_VALUES} values`);
  return items;
}

function convert(key: string, type: string, raw: string): unknown {
  switch (type) {
    case 'number': {
      const value = parseDecimal(raw);
      if (value === undefined) throw new BadRequestException(`${key} must be a decimal number such as 10, -1.5 or 1e3`);
      return value;
    }
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new BadRequestException(`${key} must be true or false`);
    case 'date': {
      const stored = isoDateOf(raw);
      if (stored === undefined) throw new BadRequestException(`${key} must be an ISO 8601 date`);
      return stored;
    }
    default:
      return raw;
  }
}

/**
 * A query string's number, written in decimal; `undefined` for anything else. Not `Number()`
 * alone, which also reads `0x10`, `0b1`, `0o7`, `' 5 '` and `''` (as 0), so a filter could match
 * values its text never named.
 */
function parseDecimal(raw: string): number | undefined {
  if (!DECIMAL.test(raw)) return undefined;
  const value = Number(raw);
  // `1e400` is written in decimal but reads as Infinity, which no stored record (JSON) can hold.
  return Number.isFinite(value) ? value : undefined;
}
