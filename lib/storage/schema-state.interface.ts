/** Where a migration under way has got to: the records up to `after` (in id order) went through it. */
export interface MigrationProgress {
  /** The version the records are being brought to. */
  to: number;
  /** Live records first, then soft-deleted ones. */
  phase: 'live' | 'deleted';
  /** The last record id of `phase` done; absent before the first. */
  after?: string;
}

/** The schema version an entity's stored records are at, and the migration under way, if any. */
export interface SchemaState {
  version: number;
  migrating?: MigrationProgress;
}
