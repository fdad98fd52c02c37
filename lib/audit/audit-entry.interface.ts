import type { RequestMeta } from '../storage/entity-event.interface.js';

/**
 * What an audit entry records. `denied` is a write refused by permissions; `restore` and
 * `purge` bring back and remove for good a soft-deleted record.
 */
export type AuditAction = 'create' | 'replace' | 'update' | 'delete' | 'restore' | 'purge' | 'denied';

/** One entry of the audit trail. */
export interface AuditEntry {
  /** Time-ordered id of the entry (the id of the event it records, for changes). */
  auditId: string;
  entity: string;
  /** The record's id. */
  id: string;
  action: AuditAction;
  /** The principal's id, or the `actor` of a repository write context. */
  actor?: string;
  /**
   * When the entry was written (ISO-8601), as its id tells. For a change, the record's
   * `updatedAt`, except after a clock that stood behind the record's last change: a record's
   * versions are never dated back, its audit entries are dated as written.
   */
  at: string;
  /** The record's version after the change (for `delete`, the version deleted). */
  version?: number;
  /** On an update made by a schema migration: the entity version it brought the record to. */
  migration?: number;
  /** Per changed field, its value before and after; hidden fields show `'[hidden]'`. */
  changes: Record<string, { from: unknown; to: unknown }>;
  request?: RequestMeta;
}

/** A query of `AuditService.find`. Every given condition must hold. */
export interface AuditQuery {
  /** Entity name. */
  entity?: string;
  /** Record id; needs `entity`. */
  id?: string;
  actor?: string;
  /** Entries at or after this time. */
  from?: Date | string;
  /** Entries before this time. */
  to?: Date | string;
  /** Page size, 1 to 1000. Default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page; `null` (a first page's, in a loop) reads from the start. */
  cursor?: string | null;
}

/** One page of audit entries, oldest first. */
export interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}
