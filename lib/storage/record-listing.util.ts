import type { IndexKey } from './index-key.util.js';

/**
 * What the log and the audit trail list under each record: `[entity, id, seq]` → null for its
 * events (reading a record as it was), `[entity, id, seq, auditId]` → null for the audit entry
 * of event `seq` (store format 5). A change's keys sort next to each other, so a write adds
 * them to one leaf page, where two databases took a page each.
 */
export const RECORD_LISTING_DB = '_log.by-record';

/** The listing key of event `seq`'s audit entry. */
export function auditListingKey(entity: string, id: string, seq: number, auditId: string): IndexKey {
  return [entity, id, seq, auditId];
}

/** Whether a listing key is an event's own, not the audit entry listed after it. */
export function isEventListing(key: readonly unknown[]): boolean {
  return key.length === 3;
}

/** The audit id a listing key names; undefined for an event's own key. */
export function listedAuditId(key: readonly unknown[]): string | undefined {
  return key.length === 4 ? (key[3] as string) : undefined;
}
