import type { FilterOperator } from '../common/filter-operators.constants.js';

export type { FilterOperator };

/** A field's condition: a value (equality) or operators, all of which must hold. */
export type FieldCondition =
  | string
  | number
  | boolean
  | Date
  | ({ [op in Exclude<FilterOperator, 'in' | 'prefix'>]?: unknown } & {
      in?: readonly unknown[];
      prefix?: string;
    });

/** A query of `EntityRepository.find` and of `GET /P`. */
export interface FindQuery {
  /**
   * Conditions per field (declared fields and `id`, `version`, `createdAt`, `updatedAt`), and
   * through a named `@Reference` on the record it points to: `'permit.status': 'open'`.
   */
  where?: Record<string, FieldCondition>;
  /** A field name, `-field` for descending. Default `id` (creation order). */
  sort?: string;
  /** Page size, 1 to 1000. Default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page; `null` (a last page's) or none reads the first. */
  cursor?: string | null;
  /**
   * On an entity with `softDelete`: `'exclude'` (default) lists live records, `'only'` the
   * deleted ones, `'include'` both. Deleted records carry `deletedAt`.
   */
  deleted?: DeletedMode;
}

/** Which records a query of a `softDelete` entity reads. */
export type DeletedMode = 'exclude' | 'include' | 'only';

/** One page of results. */
export interface FindResult<R> {
  items: R[];
  /** Pass as `cursor` to read the next page; `null` on the last page. */
  nextCursor: string | null;
}

/** One normalized condition, its value already in stored form. */
export interface QueryClause {
  field: string;
  op: FilterOperator;
  value: unknown;
}

export interface SortOrder {
  field: string;
  descending: boolean;
}
