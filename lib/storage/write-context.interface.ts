/** Options of one repository write. */
export interface WriteContext {
  /** Who makes the change; recorded in the event log, history and audit. */
  actor?: string;
  /** The version the record must have; otherwise the write fails with `VersionConflictException`. */
  expectedVersion?: number;
}
