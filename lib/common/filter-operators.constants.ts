/**
 * Comparison operators of a filter, in `find` and in `GET /P`; `eq` is what a bare value means.
 * In the order the OpenAPI document lists them.
 */
export const FILTER_OPERATORS = ['eq', 'gt', 'gte', 'lt', 'lte', 'ne', 'in', 'prefix'] as const;

export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/** Operators that bound a range of keys, so an index (or the id order) can answer them. */
export const RANGE_OPERATORS: ReadonlySet<FilterOperator> = new Set(['gt', 'gte', 'lt', 'lte', 'prefix']);

/** Whether a text names a filter operator. */
export function isFilterOperator(text: string): text is FilterOperator {
  return (FILTER_OPERATORS as readonly string[]).includes(text);
}
