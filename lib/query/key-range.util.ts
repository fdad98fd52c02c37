import { afterPrefix, afterStringPrefix, encodeKey, toKeyComponent, type IndexKey, type KeyComponent } from '../storage/index-key.util.js';
import type { QueryClause } from './find-query.interface.js';
import type { QueryPlan } from './query-plan.interface.js';
import { compareValues } from './query-clause.util.js';

/** A bound of a key range: a record id, an index key, or a key already encoded. */
export type Key = KeyComponent | KeyComponent[] | Buffer;

/** The ends of a key range; an end left undefined is open. */
export interface Bounds {
  lower?: Key;
  upper?: Key;
}

/** The equality prefixes an index plan reads: one, or one per value of its `in` alternatives. */
export function prefixesOf(plan: Extract<QueryPlan, { kind: 'index' }>): KeyComponent[][] {
  const count = plan.index.fields.length;
  const prefix = plan.equalities.map((value) => toKeyComponent(value, count));
  if (!plan.alternatives) return [prefix];
  // Two long strings could share a key form (cut and hashed): their range is read once.
  const prefixes = new Map(plan.alternatives.map((value) => [...prefix, toKeyComponent(value, count)]).map((key) => [encodeKey(key).toString('hex'), key]));
  return [...prefixes.values()];
}

/** lmdb's range options for a walk within `bounds`, resuming after `resume` (a cursor's key) when given. */
export function rangeOptions(
  bounds: Bounds,
  descending: boolean,
  resume?: Key,
): { start?: IndexKey; end?: IndexKey; reverse?: boolean; inclusiveEnd?: boolean } {
  const [start, end] = descending ? [resume ?? bounds.upper, bounds.lower] : [resume ?? bounds.lower, bounds.upper];
  // An open end is left out, not set to undefined: lmdb then reads `undefined` as the lowest key,
  // and the range would take in the entry where a database keeps its shared msgpack structures.
  // Walking down, the end is a lower bound, which may be a key itself (`id[gte]=X`, `id=X`): lmdb
  // leaves an end out unless told, and the upper bounds a walk up ends at are never keys.
  // Key by key: V8 takes about a microsecond to add a key after a spread that copied some.
  const options: { start?: IndexKey; end?: IndexKey; reverse?: boolean; inclusiveEnd?: boolean } = {};
  if (start !== undefined) options.start = start as IndexKey;
  if (end !== undefined) options.end = end as IndexKey;
  if (descending) {
    options.reverse = true;
    options.inclusiveEnd = true;
  }
  return options;
}

/** Key bounds of an index walk: the equality prefix, narrowed by range clauses on the next field. */
export function indexBounds(prefix: KeyComponent[], range: readonly QueryClause[], count: number): Bounds {
  let lower: KeyComponent | undefined;
  let upper: { value: KeyComponent; isPrefix: boolean } | undefined;
  for (const clause of range) {
    const value = toKeyComponent(clause.value, count);
    if (clause.op === 'gt' || clause.op === 'gte' || clause.op === 'prefix') {
      if (lower === undefined || compareValues(value, lower) > 0) lower = value;
    }
    if (clause.op === 'lt' || clause.op === 'lte' || clause.op === 'prefix') {
      if (upper === undefined || compareValues(value, upper.value) < 0) upper = { value, isPrefix: clause.op === 'prefix' };
    }
  }
  return {
    lower: lower !== undefined ? [...prefix, lower] : prefix.length > 0 ? prefix : undefined,
    upper:
      upper !== undefined
        ? upper.isPrefix
          ? afterStringPrefix([...prefix, upper.value])
          : afterPrefix([...prefix, upper.value])
        : prefix.length > 0
          ? afterPrefix(prefix)
          : undefined,
  };
}

/**
 * Key bounds of a walk within the run of one full set of index values (`prefix`), from range
 * clauses on `id`, the keys' last component. Each bound may take in a key too many; the
 * query's filter, which every record passes through, leaves it out.
 */
export function idBoundsWithin(prefix: KeyComponent[], range: readonly QueryClause[]): Bounds {
  let lower: string | undefined;
  let upper: Buffer | undefined;
  for (const clause of range) {
    const id = clause.value as string;
    if ((clause.op === 'gt' || clause.op === 'gte' || clause.op === 'prefix') && (lower === undefined || compareValues(id, lower) > 0)) lower = id;
    if (clause.op === 'lt' || clause.op === 'lte' || clause.op === 'prefix') {
      const end = clause.op === 'prefix' ? afterStringPrefix([...prefix, id]) : afterPrefix([...prefix, id]);
      if (upper === undefined || Buffer.compare(end, upper) < 0) upper = end;
    }
  }
  return { lower: lower === undefined ? prefix : [...prefix, lower], upper: upper ?? afterPrefix(prefix) };
}

/** Key bounds of a walk over records, from clauses on `id` (plain string keys). */
export function scanBounds(range: readonly QueryClause[]): Bounds {
  const bounds: Bounds = {};
  for (const clause of range) {
    const id = clause.value as string;
    if (clause.op === 'eq' || clause.op === 'gt' || clause.op === 'gte' || clause.op === 'prefix') bounds.lower = id;
    // A string key followed by a zero byte sorts after the key and before every longer key.
    if (clause.op === 'eq' || clause.op === 'lt' || clause.op === 'lte') bounds.upper = Buffer.concat([encodeKey(id), Buffer.from([0])]);
    if (clause.op === 'prefix') bounds.upper = Buffer.concat([encodeKey(id), Buffer.from([0xff])]);
  }
  return bounds;
}
