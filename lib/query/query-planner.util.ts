import { RANGE_OPERATORS } from '../common/filter-operators.constants.js';
import type { EntityDefinition, IndexDefinition } from '../metadata/entity-definition.interface.js';
import { boundsExactly } from '../storage/index-key.util.js';
import { isRecordId } from '../storage/record-id.util.js';
import type { QueryClause, SortOrder } from './find-query.interface.js';
import type { QueryPlan } from './query-plan.interface.js';

const ID_RANGE_OPS = new Set(['eq', ...RANGE_OPERATORS]);
const MAX_ID_BOUND = 256;

/**
 * Picks how to answer a query: the index with the longest prefix of equality filters,
 * then one with a range on the next field, then one that yields the sort order; a walk
 * over the records (in id order) when no index helps.
 */
export function planQuery(definition: EntityDefinition, clauses: readonly QueryClause[], sort: SortOrder): QueryPlan {
  // An id bound longer than any id would not fit in a key; the filter alone decides it.
  const idClauses = clauses.filter((c) => c.field === 'id' && ID_RANGE_OPS.has(c.op) && String(c.value).length <= MAX_ID_BOUND);
  let best: { plan: QueryPlan; score: number } = {
    plan: { kind: 'scan', range: idClauses, ordered: sort.field === 'id' },
    score: sort.field === 'id' ? 1 : 0,
  };
  if (idClauses.length > 0) best.score += 8;
  // An id equality reads one record; a range of ids may hold many that other equalities rule out.
  // In an index key the id follows the other fields, where only an id's length is sure to fit.
  const idRange = idClauses.some((c) => c.op === 'eq') ? [] : idClauses.filter((c) => isRecordId(c.value));
  for (const index of definition.indexes) {
    const candidate = planForIndex(index, clauses, sort, idRange);
    if (candidate.score > best.score) best = candidate;
  }
  return best.plan;
}

function planForIndex(index: IndexDefinition, clauses: readonly QueryClause[], sort: SortOrder, idClauses: QueryClause[]): { plan: QueryPlan; score: number } {
  const equalities: unknown[] = [];
  for (const field of index.fields) {
    const clause = clauses.find((c) => c.field === field && c.op === 'eq');
    if (!clause) break;
    equalities.push(clause.value);
  }
  const next = index.fields[equalities.length];
  const alternatives = next === undefined ? undefined : alternativesOf(clauses, next);
  if (alternatives) {
    // A few equalities in one: above a range, below one more equality.
    const score = equalities.length * 4 + 3 + (sort.field === 'id' ? 0.5 : 0);
    return { plan: { kind: 'index', index, equalities, range: [], idRange: [], alternatives, ordered: false, mergeRuns: sort.field === 'id' }, score };
  }
  const range = next === undefined ? [] : rangeClauses(clauses, next, index.fields.length);
  const idRange = next === undefined ? idClauses : [];
  const ordered = (sort.field === 'id' && equalities.length === index.fields.length) || (sort.field === next && equalities.length === index.fields.length - 1);
  const mergeRuns = sort.field === 'id' && equalities.length > 0 && !ordered && range.length === 0;
  // Equality counts most, then a range, then the order (a true order above merged runs); a tie keeps the earlier plan.
  // A range of ids within the run of every field's equality reads less than that range over all records.
  const score = equalities.length * 4 + (range.length > 0 ? 2 : 0) + (idRange.length > 0 ? 8 : 0) + (ordered ? 1 : mergeRuns ? 0.5 : 0);
  return {
    plan: { kind: 'index', index, equalities, range, idRange, ordered, mergeRuns },
    score: equalities.length + range.length > 0 || ordered ? score : 0,
  };
}

/** Past this many values an `in` reads more ranges than a walk is worth; the filter alone decides it. */
const MAX_ALTERNATIVES = 100;

/** The distinct values of an `in` clause on `field`, when there are few enough to read one range each. */
function alternativesOf(clauses: readonly QueryClause[], field: string): unknown[] | undefined {
  const clause = clauses.find((c) => c.field === field && c.op === 'in');
  if (!clause || !Array.isArray(clause.value) || clause.value.length > MAX_ALTERNATIVES) return undefined;
  return [...new Set(clause.value)];
}

/**
 * Range clauses usable as key bounds. A string bound longer than its share of the key
 * is left to the filter: its key form is cut and hashed, so it cannot bound a range.
 */
function rangeClauses(clauses: readonly QueryClause[], field: string, componentCount: number): QueryClause[] {
  return clauses.filter(
    (clause) => clause.field === field && RANGE_OPERATORS.has(clause.op) && (typeof clause.value !== 'string' || boundsExactly(clause.value, componentCount)),
  );
}

/** One line describing a plan, for debug logs and tests. */
export function explainPlan(plan: QueryPlan): string {
  const range = [...plan.range, ...(plan.kind === 'index' ? plan.idRange : [])].map((c) => `${c.field}[${c.op}]`).join(' ');
  if (plan.kind === 'scan') {
    return `scan records${range ? ` by ${range}` : ''}${plan.ordered ? ' in order' : ', then sort'}`;
  }
  const fields = plan.index.fields
    .slice(0, plan.equalities.length)
    .map((f) => `${f}=`)
    .join(' ');
  const alternatives = plan.alternatives ? `${plan.index.fields[plan.equalities.length]}[in ${plan.alternatives.length}]` : '';
  const bounds = [fields, range, alternatives].filter(Boolean).join(' ');
  const order = plan.ordered ? ' in order' : plan.mergeRuns ? ', merging its runs in id order' : ', then sort';
  return `index ${plan.index.name}${bounds ? ` by ${bounds}` : ''}${order}`;
}
