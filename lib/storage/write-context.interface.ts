import type { RequestMeta, StoredRecord } from './entity-event.interface.js';

/** Record versions a write must not find (see `WriteContext.noneMatch`): `'*'` for any. */
export type NoneMatch = '*' | ReadonlySet<number>;

/** Options of one repository write. */
export interface WriteContext {
  /** Who makes the change; recorded in the event log, history and audit. */
  actor?: string;
  /** The version the record must have; otherwise the write fails with `VersionConflictException`. */
  expectedVersion?: number;
  /**
   * Makes a create safe to retry: the same key with the same data returns the first
   * result and creates nothing; with other data it fails with `IdempotencyConflictException`.
   * Scoped per entity and actor; remembered for the module's `idempotencyTtl`.
   */
  idempotencyKey?: string;
  /**
   * @internal
   * The versions an `If-None-Match` header names: a record at one of them (at any, for `'*'`)
   * fails the write with `VersionMatchedException`, answered 412.
   */
  noneMatch?: NoneMatch;
  /** HTTP details kept in the audit trail; set by the generated controllers. */
  request?: RequestMeta;
  /**
   * @internal
   * Called inside the write transaction with the record as it is, before a replace, update
   * or delete; throwing refuses the write. Record-level access checks run here, so a check
   * and the write it guards see the same state.
   */
  authorize?: (current: StoredRecord) => void;
  /** @internal Fields a replace keeps as they are (the caller may not write them). */
  preserveFields?: ReadonlySet<string>;
  /**
   * @internal
   * The owner-rule field of a checked change: a value for it other than the record's own is
   * refused (a record read and sent back names its owner as it is).
   */
  ownerField?: string;
  /**
   * @internal
   * Set on a write checked for a principal: the fields it may not read. A replace keeps those,
   * and hidden ones, when its data leaves them out: the caller could not have sent them back.
   */
  unreadable?: ReadonlySet<string>;
  /**
   * @internal
   * Set on a write checked for a principal without the entity's read permission: whether it
   * may read this record (the owner rule, a grant). To one that may not, every field is
   * unseen (see `unseenFields`) and every change writes a version.
   */
  readable?: (current: StoredRecord) => boolean;
  /**
   * @internal
   * An update or replace that changes nothing still writes a new version. Set for callers that
   * may write a field they may not read, so whether the version moved never tells them the
   * value, and for a revert, which is a new version by definition.
   */
  writeEvenIfUnchanged?: boolean;
  /**
   * @internal
   * A revert: the replace's data are a past version's values, so a field they leave out is
   * cleared, not given its default (unless it is required).
   */
  restoresVersion?: boolean;
}
