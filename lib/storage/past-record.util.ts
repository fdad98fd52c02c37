import type { EntityEvent, StoredRecord } from './entity-event.interface.js';
import { nextState } from './event-applier.util.js';
import { moveFields } from './record-migration.util.js';

/** Which state of a record to read: the one at a version, or the one in force at a time (ISO-8601). */
export type PastPoint = { version: number } | { asOf: string };

/**
 * A record as it was: `found` with its state; `absent` when it had no such version, or did not
 * exist (yet, or any more) at that time; `gone` when the log no longer holds what it would take
 * to tell, its older events having been dropped by the retention policy.
 */
export type PastRecord = { kind: 'found'; record: StoredRecord } | { kind: 'absent' } | { kind: 'gone'; imported?: true };

/**
 * Folds one record's events still in the log, oldest first, up to `point`, as `applyEvent`
 * folded them. Its history is whole when its `created` event is still there. Otherwise the
 * fold knows the record from its first `replaced` event on, when `createdAt` (which never
 * changes, and which that event does not carry) comes from the record as it is now: given
 * exactly when the record exists, live or soft-deleted.
 */
export function pastRecord(events: Iterable<EntityEvent>, point: PastPoint, createdAt?: string): PastRecord {
  // Before its creation a record did not exist, whatever the log still holds.
  if ('asOf' in point && createdAt !== undefined && point.asOf < createdAt) return { kind: 'absent' };
  /** Whether the last event at or before `point.asOf` removed the record: then it did not exist at that time. */
  let removed = false;
  let state: StoredRecord | undefined;
  /** The state a soft delete left, which a restore brings back. */
  let deleted: StoredRecord | undefined;
  let known = false;
  /** Read as the fold goes, which stops at the point: a version near the start reads few events. */
  let first: EntityEvent | undefined;
  let firstReplaced: number | undefined;
  for (const event of events) {
    first ??= event;
    if (event.type === 'replaced') firstReplaced ??= event.version;
    if ('asOf' in point && timeOf(event) > point.asOf) break;
    removed = event.type === 'deleted' || event.type === 'purged';
    const starts = !known && (event.type === 'created' || (event.type === 'replaced' && createdAt !== undefined));
    if (starts) known = true;
    if (!known) continue;
    if (event.type === 'deleted') deleted = event.soft ? state : undefined;
    state = nextState(event.type === 'restored' ? deleted : state, event);
    if (starts && event.type === 'replaced') state = { ...state!, createdAt: createdAt! };
    if ('version' in point && state?.version === point.version) return { kind: 'found', record: state };
    if ('version' in point && state !== undefined && state.version > point.version) break;
  }
  if ('asOf' in point && state) return { kind: 'found', record: state };
  const imported = first && importedTimesOf(first);
  if (imported && (first!.version > 1 || imported.createdAt < imported.updatedAt)) {
    // The states an export held before the one imported were never in this log.
    if ('asOf' in point) return known || removed || point.asOf < imported.createdAt ? { kind: 'absent' } : { kind: 'gone', imported: true };
    return point.version < first!.version ? { kind: 'gone', imported: true } : { kind: 'absent' };
  }
  // Without the record's first event, a state before the first whole one cannot be told. A record
  // gone from the store with none of its events left cannot be told from one that never was.
  if (first?.type === 'created' || (first === undefined && createdAt === undefined)) return { kind: 'absent' };
  if ('asOf' in point) return known || removed ? { kind: 'absent' } : { kind: 'gone' };
  // A fold stopped past the point had read the replace it knew the record from.
  const firstKnown = createdAt === undefined ? undefined : firstReplaced;
  return firstKnown !== undefined && point.version >= firstKnown ? { kind: 'absent' } : { kind: 'gone' };
}

/**
 * `state` (the record at its version) under the names its fields have now: the renames that
 * migrations after that version made (the `renamed` of their events), in log order, as the
 * record's history moved with them.
 */
export function underCurrentNames(state: StoredRecord, events: Iterable<EntityEvent>): StoredRecord {
  let named: Record<string, unknown> = state;
  for (const event of events) {
    if (event.version <= state.version || !event.renamed) continue;
    named = { ...named };
    moveFields(named, Object.entries(event.renamed));
  }
  return named as StoredRecord;
}

/** When an event's change took effect: an import's are timed by the record's own times, not by when it was imported. */
function timeOf(event: EntityEvent): string {
  const imported = importedTimesOf(event)?.updatedAt;
  if (imported !== undefined) return imported;
  const deletedAt = event.type === 'deleted' ? event.data?.deletedAt : undefined;
  return typeof deletedAt === 'string' ? deletedAt : event.at;
}

/**
 * The times of a record an import restored (a `created` event carrying them, at the record's
 * exported version): its state is the one of its `updatedAt`, whatever the event's own time.
 */
function importedTimesOf(event: EntityEvent): { createdAt: string; updatedAt: string } | undefined {
  if (event.type !== 'created' || !event.data) return undefined;
  const { createdAt, updatedAt } = event.data;
  return typeof createdAt === 'string' && typeof updatedAt === 'string' ? { createdAt, updatedAt } : undefined;
}
