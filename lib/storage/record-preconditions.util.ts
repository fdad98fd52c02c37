import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { CommittingTransaction } from './committing-transaction.interface.js';
import type { DeletedRecord, StoredRecord } from './entity-event.interface.js';
import { InvalidRecordException } from './invalid-record.exception.js';
import { RecordNotFoundException } from './record-not-found.exception.js';
import { VersionConflictException } from './version-conflict.exception.js';
import { VersionMatchedException } from './version-matched.exception.js';
import type { WriteContext } from './write-context.interface.js';

/** The live record a write changes, as the write expects it; `RecordNotFoundException` when there is none. */
export function currentOrFail(tx: CommittingTransaction, definition: EntityDefinition, id: string, context: WriteContext): StoredRecord {
  const record = tx.get(definition, id);
  if (!record) throw new RecordNotFoundException(definition.name, String(id));
  checkCurrent(definition, record, context);
  return record;
}

/** The soft-deleted record a write changes, as the write expects it; `RecordNotFoundException` when there is none. */
export function deletedOrFail(tx: CommittingTransaction, definition: EntityDefinition, id: string, context: WriteContext): DeletedRecord {
  const deleted = tx.getDeleted(definition, id);
  if (!deleted) throw new RecordNotFoundException(definition.name, String(id));
  checkCurrent(definition, deleted, context);
  return deleted;
}

/** The write's record-level access check and the versions it expects and refuses, against the record as it is. */
function checkCurrent(definition: EntityDefinition, record: StoredRecord, context: WriteContext): void {
  context.authorize?.(record);
  if (context.expectedVersion !== undefined) {
    // Said as what it is: compared as it is, `'2'` or `NaN` would read as a version conflict.
    if (!Number.isSafeInteger(context.expectedVersion) || context.expectedVersion < 1) {
      throw new InvalidRecordException(definition.name, ['expectedVersion must be a positive integer']);
    }
    if (context.expectedVersion !== record.version) {
      throw new VersionConflictException(definition.name, record.id, context.expectedVersion, record.version);
    }
  }
  const refused = context.noneMatch;
  if (refused !== undefined && (refused === '*' || (refused instanceof Set && refused.has(record.version)))) {
    throw new VersionMatchedException(definition.name, record.id, record.version);
  }
}

/**
 * Refuses a checked change whose data names an owner other than the record's (see
 * `WriteContext.ownerField`), or any owner at all from a caller that may not read the record
 * (`unseen`): accepted when it matched, the owner would be confirmed.
 */
export function checkOwnerKept(definition: EntityDefinition, context: WriteContext, data: unknown, before: StoredRecord, unseen: boolean): void {
  const owner = context.ownerField;
  if (owner === undefined || data === null || typeof data !== 'object') return;
  const value = (data as Record<string, unknown>)[owner];
  if (value !== undefined && (unseen || value !== before[owner])) throw new InvalidRecordException(definition.name, [`property ${owner} should not exist`]);
}
