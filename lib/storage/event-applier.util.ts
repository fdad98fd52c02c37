import type { EntityEvent, StoredRecord } from './entity-event.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import { indexKeyOf, sameKey, type IndexKey } from './index-key.util.js';

/**
 * The one function that changes records, indexes, history and projections. Given the state before and an
 * event, it writes the state after; it decides nothing (ids, times and versions are in
 * the event), so replaying the same events anywhere yields the same store.
 * Must run inside a write transaction.
 */
export function applyEvent(
  tables: EntityTables,
  event: EntityEvent,
  // A writer that already read the record in this transaction hands it over rather than reading it twice.
  before: StoredRecord | undefined = tables.records.get(event.id),
): StoredRecord | undefined {
  const after = nextState(before, event);
  for (const { index, db } of tables.indexes) {
    const oldKey = before && indexKeyOf(index, before, before.id);
    const newKey = after && indexKeyOf(index, after, after.id);
    if (oldKey && newKey && sameKey(oldKey, newKey)) continue;
    if (oldKey) db.removeSync(oldKey as IndexKey);
    if (newKey) db.putSync(newKey as IndexKey, null);
  }
  if (after) tables.records.putSync(event.id, after);
  else tables.records.removeSync(event.id);
  tables.history.record(event, before, after);
  // Cached reads are keyed by this counter, so committing the change makes them unreachable.
  const mark: IndexKey = ['changes', tables.definition.name];
  tables.counters.putSync(mark, { count: (tables.counters.get(mark)?.count ?? 0) + 1, lastEventId: event.eventId });
  for (const projection of tables.projections) projection.apply(tables.definition, event, before, after);
  return after;
}

/** The record an event leaves behind, or `undefined` when it deletes it. */
export function nextState(before: StoredRecord | undefined, event: Omit<EntityEvent, 'seq'>): StoredRecord | undefined {
  switch (event.type) {
    case 'created':
      return { id: event.id, version: event.version, createdAt: event.at, updatedAt: event.at, ...event.data };
    case 'replaced':
      return { id: event.id, version: event.version, createdAt: before?.createdAt ?? event.at, updatedAt: event.at, ...event.data };
    case 'updated': {
      const record: Record<string, unknown> = { ...before, version: event.version, updatedAt: event.at };
      for (const [field, value] of Object.entries(event.data ?? {})) {
        if (value === null) delete record[field];
        else record[field] = value;
      }
      return record as StoredRecord;
    }
    case 'deleted':
      return undefined;
  }
}
