import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { DeletedRecord, EntityEventType, StoredRecord } from './entity-event.interface.js';
import type { WriteContext } from './write-context.interface.js';

/** How `commit` applies an event; every option is off when absent. */
export interface CommitOptions {
  /** A delete that keeps the record (default `false`). */
  soft?: boolean;
  /** The state the event starts from when not the live record (a restore's). */
  prior?: StoredRecord;
  /**
   * `'all'` (the default) checks unique values and references; `'unique'`, for an imported
   * record, whose references the import checks once all is in; `'none'` for a deleted record
   * stored or changed as it was, its unique values freed and its references released when it
   * was deleted.
   */
  checks?: 'all' | 'unique' | 'none';
  /** The schema version a migration's update brings the record to, and what it renamed. */
  migration?: { to: number; renamed?: Record<string, string> };
}

export interface CommittingTransaction {
  get(definition: EntityDefinition, id: string): StoredRecord | undefined;
  getDeleted(definition: EntityDefinition, id: string): DeletedRecord | undefined;
  delete(definition: EntityDefinition, id: string, context?: WriteContext): StoredRecord;
  commit(
    definition: EntityDefinition,
    type: EntityEventType,
    id: string,
    version: number,
    data: Record<string, unknown> | undefined,
    context: WriteContext,
    options?: CommitOptions,
  ): StoredRecord | undefined;
}
