import type { DeletedRecord, EntityEvent, StoredRecord } from './entity-event.interface.js';
import type { ChangeMark, EntityTables } from './entity-tables.interface.js';
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
  // A restore and a purge start from the deleted record; everything else from the live one.
  const deleted = event.type === 'restored' || event.type === 'purged' ? tables.deleted?.get(event.id) : undefined;
  const prior = deleted ? withoutDeletedAt(deleted) : before;
  const after = nextState(prior, event);
  for (const { index, db } of tables.indexes) {
    const oldKey = before && indexKeyOf(index, before, before.id);
    const newKey = after && indexKeyOf(index, after, after.id);
    if (oldKey && newKey && sameKey(oldKey, newKey)) continue;
    if (oldKey) db.removeSync(oldKey as IndexKey);
    if (newKey) db.putSync(newKey as IndexKey, null);
  }
  if (after) tables.records.putSync(event.id, after);
  else if (before) tables.records.removeSync(event.id);
  if (deleted) tables.deleted!.removeSync(event.id);
  // Without a table of deleted records (softDelete turned off since), a soft delete replays as a final one.
  // An imported deleted record keeps the time it was deleted at, which its event carries.
  if (event.soft && before && tables.deleted)
    tables.deleted.putSync(event.id, Object.assign({}, before, { deletedAt: (event.data?.deletedAt as string | undefined) ?? event.at }));
  tables.history.record(event, prior, after);
  moveChangeMark(tables, event.eventId);
  for (const projection of tables.projections) projection.apply(tables.definition, event, prior, after);
  return after;
}

/**
 * Moves the entity's change mark to `changeId` and counts the change. Cached reads are keyed by
 * the mark, so committing the change makes them unreachable: every change to what reads answer moves it.
 */
export function moveChangeMark(tables: EntityTables, changeId: string): void {
  const mark = changeMarkKey(tables.definition.name);
  const before = tables.counters.get(mark);
  tables.counters.putSync(mark, changeMarkOf((before?.count ?? 0) + 1, changeId, before?.trims));
}

/**
 * Counts a start's trim of the entity's history to narrowed policies in its change mark, which
 * cached answers are keyed by: those cached before become unreachable, also after a roll back to
 * the wider policies. `changeId` moves the mark's id too, for processes of older code that key by
 * it alone. The count of changes (`stat`) stays.
 */
export function markTrimmed(tables: EntityTables, changeId?: string): void {
  const mark = changeMarkKey(tables.definition.name);
  const before = tables.counters.get(mark);
  tables.counters.putSync(mark, changeMarkOf(before?.count ?? 0, changeId ?? before?.lastEventId ?? '', (before?.trims ?? 0) + 1));
}

/** Where an entity's change mark is kept in its `counters`. */
export function changeMarkKey(entity: string): IndexKey {
  return ['changes', entity];
}

/** A change mark, its keys always in one order: replicated instances hold it byte for byte alike. */
function changeMarkOf(count: number, lastEventId: string, trims: number | undefined): ChangeMark {
  return trims === undefined ? { count, lastEventId } : { count, lastEventId, trims };
}

/**
 * The record an event leaves behind, or `undefined` when it deletes it. `before` is the live
 * record, or for `restored` and `purged` the deleted one.
 */
export function nextState(before: StoredRecord | undefined, event: Omit<EntityEvent, 'seq'>): StoredRecord | undefined {
  switch (event.type) {
    case 'created':
      return { id: event.id, version: event.version, createdAt: event.at, updatedAt: event.at, ...event.data };
    case 'replaced':
      return { id: event.id, version: event.version, createdAt: before?.createdAt ?? event.at, updatedAt: event.at, ...event.data };
    case 'updated': {
      // Not `{ ...before, version, updatedAt }`: a field the update adds would cost V8 about a microsecond on an object begun by a spread.
      const record: Record<string, unknown> = Object.assign({}, before);
      record.version = event.version;
      record.updatedAt = event.at;
      for (const [field, value] of Object.entries(event.data ?? {})) {
        if (value === null) delete record[field];
        else record[field] = value;
      }
      return record as StoredRecord;
    }
    case 'restored':
      return before && { ...before, version: event.version, updatedAt: event.at };
    case 'deleted':
    case 'purged':
      return undefined;
  }
}

/** A deleted record as it was before its delete. */
export function withoutDeletedAt(record: DeletedRecord): StoredRecord {
  const { deletedAt: _deletedAt, ...rest } = record;
  return rest as StoredRecord;
}
