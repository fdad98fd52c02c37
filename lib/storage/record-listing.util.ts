import type { IndexKey } from './index-key.util.js';

/**
 * What is listed under each record, in this order: `[entity, id, seq]` → null for its events
 * (reading a record as it was), `[entity, id, seq, auditId]` → null for the audit entry of
 * event `seq` (store format 5), then `[entity, id, field, version]` → the field's value for its
 * history and `[entity, id, '#deleted']` once it is deleted (store format 6): a seq is a
 * number, and numbers sort before strings. A change's keys sort next to each other, so a
 * write adds them to one leaf page, where each database took a page of its own.
 */
export const RECORD_LISTING_DB = '_log.by-record';

/** The listing key of event `seq`'s audit entry. */
export function auditListingKey(entity: string, id: string, seq: number, auditId: string): IndexKey {
  return [entity, id, seq, auditId];
}

/** Whether a listing key is an event's own, not the audit entry listed after it nor history. */
export function isEventListing(key: readonly unknown[]): boolean {
  return key.length === 3 && typeof key[2] === 'number';
}

/** The audit id a listing key names; undefined for an event's own key and for history. */
export function listedAuditId(key: readonly unknown[]): string | undefined {
  return key.length === 4 && typeof key[2] === 'number' ? (key[3] as string) : undefined;
}

/** Where a record's history starts in the listing: the first key past its events and audit entries, an end for ranges over those. */
export function historyStartOf(entity: string, id: string): IndexKey {
  return [entity, id, ''];
}
