/** The kinds of change an event can carry. */
export type EntityEventType = 'created' | 'replaced' | 'updated' | 'deleted';

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
  /** The record's version after the change (for `deleted`, the version that was deleted). */
  version: number;
  /**
   * `created`/`replaced`: every field of the new state; `updated`: the changed fields; `deleted`: absent.
   * A record restored from an export (`import`) is `created` with its `createdAt` and `updatedAt` here too.
   */
  data?: Record<string, unknown>;
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

/** A record as stored and returned: the declared fields plus the managed ones. */
export type StoredRecord<T = Record<string, unknown>> = T & {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
};
