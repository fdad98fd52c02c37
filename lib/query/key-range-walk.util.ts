import type { StoredRecord } from '../storage/entity-event.interface.js';
import { afterPrefix, encodeKey, LOWEST_KEY, toKeyComponent, type IndexKey, type KeyComponent } from '../storage/index-key.util.js';
import type { CursorPosition } from './cursor.util.js';
import type { QueryTables } from './deleted-records.util.js';
import { idBoundsWithin, indexBounds, prefixesOf, rangeOptions, scanBounds } from './key-range.util.js';
import type { QueryPlan } from './query-plan.interface.js';

/** Records in the plan's key range, in key order (reversed when `descending`), resuming after `cursor`. */
export function* walk(tables: QueryTables, plan: QueryPlan, descending: boolean, cursor?: CursorPosition): Generator<StoredRecord> {
  if (plan.kind === 'scan') {
    const bounds = scanBounds(plan.range);
    const resume = cursor?.id;
    for (const { key, value } of tables.records.getRange(rangeOptions(bounds, descending, resume))) {
      if (key === resume) continue;
      yield value;
    }
    return;
  }
  const count = plan.index.fields.length;
  const db = tables.indexes.find((entry) => entry.index === plan.index)!.db;
  if (plan.alternatives) {
    // Never ordered: the caller collects and sorts what the ranges hold.
    for (const prefix of prefixesOf(plan)) {
      for (const key of db.getKeys({ start: prefix as IndexKey, end: afterPrefix(prefix) }) as Iterable<KeyComponent[]>) {
        const record = tables.records.get(key[key.length - 1] as string);
        if (record) yield record;
      }
    }
    return;
  }
  const prefix = plan.equalities.map((value) => toKeyComponent(value, count));
  const bounds = plan.idRange.length > 0 ? idBoundsWithin(prefix, plan.idRange) : indexBounds(prefix, plan.range, count);
  bounds.lower ??= LOWEST_KEY;
  let resume: KeyComponent[] | undefined;
  if (cursor) resume = prefix.length === count ? [...prefix, cursor.id] : [...prefix, cursor.value, cursor.id];
  // Only the cursor's own key is skipped, not every key of its record: a record changed since
  // the last page may have moved past the cursor, and is then still ahead of the walk.
  let atCursor = resume && encodeKey(resume);
  for (const key of db.getKeys(rangeOptions(bounds, descending, resume)) as Iterable<KeyComponent[]>) {
    const id = key[key.length - 1] as string;
    if (atCursor) {
      const same = encodeKey(key).equals(atCursor);
      atCursor = undefined;
      if (same) continue;
    }
    const record = tables.records.get(id);
    if (record) yield record;
  }
}
