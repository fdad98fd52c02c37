import { isoDateOf } from '../common/date-value.util.js';
import { isFilterOperator } from '../common/filter-operators.constants.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../common/page-limits.constants.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { FieldType } from '../metadata/decorator-options.interface.js';
import type { DeletedMode, FilterOperator, FindQuery, QueryClause, SortOrder } from './find-query.interface.js';
import { InvalidQueryException } from './invalid-query.exception.js';

const DELETED_MODES: ReadonlySet<string> = new Set<DeletedMode>(['exclude', 'include', 'only']);

const MANAGED_TYPES: Readonly<Record<string, FieldType>> = { id: 'string', version: 'number', createdAt: 'date', updatedAt: 'date' };

export interface NormalizedQuery {
  clauses: QueryClause[];
  sort: SortOrder;
  limit: number;
  cursor?: string;
  deleted: DeletedMode;
}

/** The type of a queryable field, managed ones included; `undefined` if there is no such field. */
export function queryableFieldType(definition: EntityDefinition, field: string): FieldType | undefined {
  return Object.prototype.hasOwnProperty.call(MANAGED_TYPES, field) ? MANAGED_TYPES[field] : definition.fieldsByName.get(field)?.type;
}

const QUERY_KEYS: ReadonlySet<string> = new Set(['where', 'sort', 'limit', 'cursor', 'deleted']);

/** Checks a query against the definition and brings every value to stored form. */
export function normalizeQuery(definition: EntityDefinition, query: FindQuery = {}): NormalizedQuery {
  // `find({ status: 'open' })` would otherwise list every record, as if unfiltered.
  for (const key of Object.keys(query)) {
    if (!QUERY_KEYS.has(key))
      throw new InvalidQueryException(`unknown query key ${key}: a query takes ${[...QUERY_KEYS].join(', ')} (conditions go under where)`);
  }
  const clauses: QueryClause[] = [];
  for (const [field, condition] of Object.entries(query.where ?? {})) {
    const type = queryableFieldType(definition, field);
    if (!type) throw new InvalidQueryException(`cannot filter on ${field}: ${definition.name} has no such field`);
    const operators: [string, unknown][] =
      condition !== null && typeof condition === 'object' && !(condition instanceof Date) ? Object.entries(condition) : [['eq', condition]];
    for (const [op, value] of operators) {
      if (!isFilterOperator(op)) throw new InvalidQueryException(`unknown operator ${op} on ${field}`);
      clauses.push({ field, op, value: clauseValue(field, type, op, value) });
    }
  }
  const rawSort = query.sort ?? 'id';
  if (typeof rawSort !== 'string') throw new InvalidQueryException('sort must be a field name, or -field for descending');
  const descending = rawSort.startsWith('-');
  const sortField = descending ? rawSort.slice(1) : rawSort;
  if (!queryableFieldType(definition, sortField)) throw new InvalidQueryException(`cannot sort by ${sortField}: ${definition.name} has no such field`);
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidQueryException(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  const deleted = query.deleted ?? 'exclude';
  if (!DELETED_MODES.has(deleted)) throw new InvalidQueryException('deleted must be exclude, include or only');
  if (deleted !== 'exclude' && !definition.softDelete) throw new InvalidQueryException(`${definition.name} keeps no deleted records (no softDelete)`);
  // `null`, a last page's nextCursor, is no cursor: a loop may start from it.
  const cursor = query.cursor ?? undefined;
  if (cursor !== undefined && typeof cursor !== 'string') throw new InvalidQueryException('cursor must be the nextCursor of the page before');
  return { clauses, sort: { field: sortField, descending }, limit, cursor, deleted };
}

/** Whether a query's clauses rule out every record: an `in` over an empty list, which no value is in. */
export function matchesNothing(clauses: readonly QueryClause[]): boolean {
  return clauses.some((clause) => clause.op === 'in' && (clause.value as unknown[]).length === 0);
}

function clauseValue(field: string, type: FieldType, op: FilterOperator, value: unknown): unknown {
  if (op === 'in') {
    // An empty list is a set no value is in: it matches no record, as `field[in]=` over HTTP.
    if (!Array.isArray(value)) throw new InvalidQueryException(`${field}[in] needs a list`);
    return value.map((item) => storedValue(field, type, item));
  }
  if (op === 'prefix') {
    if (type !== 'string') throw new InvalidQueryException(`${field}[prefix] applies to string fields only`);
    if (typeof value !== 'string' || value.length === 0) throw new InvalidQueryException(`${field}[prefix] needs a non-empty string`);
    return value;
  }
  return storedValue(field, type, value);
}

function storedValue(field: string, type: FieldType, value: unknown): unknown {
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      break;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      break;
    case 'date': {
      const stored = isoDateOf(value);
      if (stored !== undefined) return stored;
      break;
    }
  }
  throw new InvalidQueryException(`${field} must be compared with a ${type === 'date' ? 'date' : type}`);
}

const TYPE_RANK: Readonly<Record<string, number>> = { undefined: 0, object: 0, boolean: 1, number: 2, string: 3 };

/**
 * Orders values the way lmdb orders index keys: missing first, then booleans, numbers,
 * strings; strings by code point (UTF-8 byte order), not by UTF-16 unit.
 */
export function compareValues(a: unknown, b: unknown): number {
  const rankA = TYPE_RANK[typeof a] ?? 0;
  const rankB = TYPE_RANK[typeof b] ?? 0;
  if (rankA !== rankB || rankA === 0) return rankA - rankB;
  if (rankA === 3 && (hasSurrogates(a as string) || hasSurrogates(b as string))) {
    return Buffer.compare(Buffer.from(a as string), Buffer.from(b as string));
  }
  return a === b ? 0 : (a as number) < (b as number) ? -1 : 1;
}

function hasSurrogates(text: string): boolean {
  return /[\ud800-\udfff]/.test(text);
}

/** Whether a record satisfies one clause. */
export function matchesClause(record: Readonly<Record<string, unknown>>, clause: QueryClause): boolean {
  const actual = record[clause.field];
  switch (clause.op) {
    case 'eq':
      return actual === clause.value;
    case 'ne':
      return actual !== clause.value;
    case 'in':
      return (clause.value as unknown[]).includes(actual);
    case 'prefix':
      return typeof actual === 'string' && actual.startsWith(clause.value as string);
    default: {
      if (actual === undefined || actual === null || typeof actual !== typeof clause.value) return false;
      const order = compareValues(actual, clause.value);
      return clause.op === 'gt' ? order > 0 : clause.op === 'gte' ? order >= 0 : clause.op === 'lt' ? order < 0 : order <= 0;
    }
  }
}
