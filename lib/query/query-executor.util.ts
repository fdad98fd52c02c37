import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { QueryTables } from './deleted-records.util.js';
import { MISSING, toKeyComponent, type KeyComponent } from '../storage/index-key.util.js';
import { decodeCursor, encodeCursor } from './cursor.util.js';
import type { FindResult } from './find-query.interface.js';
import { mergeRuns } from './index-run-merge.util.js';
import { walk } from './key-range-walk.util.js';
import type { QueryPlan } from './query-plan.interface.js';
import { compareValues, matchesClause, matchesNothing, type NormalizedQuery } from './query-clause.util.js';

/**
 * Runs a planned query in one synchronous pass, so every read sees one snapshot.
 * Ordered plans stop after `limit + 1` matches; the others collect every match in the
 * scanned range, sort it, and cut the page after the cursor.
 */
export function runQuery(
  tables: QueryTables,
  query: NormalizedQuery,
  plan: QueryPlan,
  cursorKey: Buffer,
  visible: (record: StoredRecord) => boolean = () => true,
): FindResult<StoredRecord> {
  const sortName = `${query.sort.descending ? '-' : ''}${query.sort.field}`;
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, sortName, cursorKey);
  // Nothing is in an empty list: no walk over the records needed to find that out.
  if (matchesNothing(query.clauses)) return { items: [], nextCursor: null };
  const componentCount = plan.kind === 'index' ? plan.index.fields.length : 1;
  const sortComponent = (record: StoredRecord): KeyComponent =>
    query.sort.field === 'id' ? MISSING : toKeyComponent(record[query.sort.field as keyof StoredRecord], plan.ordered ? componentCount : 1);
  const matches = (record: StoredRecord) => query.clauses.every((clause) => matchesClause(record, clause)) && visible(record);
  const page: StoredRecord[] = [];
  const merged = plan.kind === 'index' && plan.mergeRuns ? mergeRuns(tables, plan, query.sort.descending, cursor) : undefined;

  if (plan.ordered || merged) {
    for (const record of merged ?? walk(tables, plan, query.sort.descending, cursor)) {
      if (!matches(record)) continue;
      page.push(record);
      if (page.length > query.limit) break;
    }
  } else {
    const direction = query.sort.descending ? -1 : 1;
    const found: { record: StoredRecord; component: KeyComponent }[] = [];
    for (const record of walk(tables, plan, false, undefined)) {
      if (matches(record)) found.push({ record, component: sortComponent(record) });
    }
    const order = (a: { component: KeyComponent; record: StoredRecord }, b: { component: KeyComponent; record: StoredRecord }) =>
      direction * (compareValues(a.component, b.component) || compareValues(a.record.id, b.record.id));
    found.sort(order);
    const start = cursor ? found.findIndex((item) => order(item, { component: cursor.value, record: { id: cursor.id } as StoredRecord }) > 0) : 0;
    if (start >= 0) page.push(...found.slice(start, start + query.limit + 1).map((item) => item.record));
  }

  const items = page.slice(0, query.limit);
  const last = items[items.length - 1];
  const nextCursor = page.length > query.limit && last ? encodeCursor({ sort: sortName, value: sortComponent(last), id: last.id }, cursorKey) : null;
  return { items, nextCursor };
}
