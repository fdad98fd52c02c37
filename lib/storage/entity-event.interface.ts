/**
 * The kinds of change an event can carry. `restored` brings a soft-deleted record back (at
 * the next version); `purged` removes a soft-deleted record for good.
 */
export type EntityEventType = 'created' | 'replaced' | 'updated' | 'deleted' | 'restored' | 'purged';

/**
 * One committed change. Records and indexes are a pure function of the sequence of
 * events: `applyEvent` is the only code that changes them.
 */
export interface EntityEvent {
  /** Gap-free, strictly increasing position in the log, starting at 1. */
  seq: number;
  /** Unique id of the event (a ULID). */
  eventId: string;
  entity: string;
  id: string;
  type: EntityEventType;
  /** The record's version after the change (for `deleted` and `purged`, the version that was deleted). */
  version: number;
  /** On a `deleted` event: the record was kept, restorable, among the entity's deleted records. */
  soft?: true;
  /**
   * `created`/`replaced`: every field of the new state; `updated`: the changed fields; `deleted`: absent.
   * A record restored from an export (`import`) is `created` with its `createdAt` and `updatedAt` here too.
   */
  data?: Record<string, unknown>;
  /** On an `updated` event made by a schema migration: the entity version it brought the record to. */
  migration?: number;
  /** On such an event: fields the migration renamed, old name → new; their history moves with them. */
  renamed?: Record<string, string>;
  /** Who made the change: a principal id, a repository context actor, or absent. */
  actor?: string;
  /** ISO-8601 time of the change. */
  at: string;
  idempotencyKey?: string;
  /** Where the change came from, when it came through HTTP. */
  request?: RequestMeta;
}

/** HTTP request details kept with a change for the audit trail. */
export interface RequestMeta {
  /** `X-Request-Id` of the request, or one generated for it. */
  id?: string;
  ip?: string;
  /** e.g. `PATCH /permits/01J...` */
  route?: string;
}

/** A soft-deleted record: as it was when deleted, and when that was. */
export type DeletedRecord<T = Record<string, unknown>> = StoredRecord<T> & { deletedAt: string };

/** A record as stored and returned: the declared fields plus the managed ones. */
export type StoredRecord<T = Record<string, unknown>> = T & {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
};
