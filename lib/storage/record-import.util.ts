import { isoDateOf } from '../common/date-value.util.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { InvalidRecordException } from './invalid-record.exception.js';
import { isRecordId, isRouteName } from './record-id.util.js';

/**
 * The highest version an import takes: the record keeps room for any number of later changes
 * (migrations, restores) below 2^53 − 1, past which a change is refused.
 */
const MAX_IMPORTED_VERSION = 2 ** 52;

/** What `importRecord` keeps of an exported record, its managed values checked. */
export interface ImportedRecord {
  id: string;
  /** The version it is stored at; 1 when the export gave none. */
  version: number;
  /** Whether it names its version, as an export's lines do: it is restored as stored, no default filling an optional field it lacks. */
  exported: boolean;
  /** The record without its `deletedAt`, to be checked as a create's input. */
  input: unknown;
  createdAt: string;
  updatedAt: string;
  /** In stored form; only for a record of a `softDelete` entity exported deleted. */
  deletedAt?: string;
}

/**
 * Checks the id, version, times and `deletedAt` of an exported record, all at once: an
 * `InvalidRecordException` lists every problem. A time left out is the other, or its `deletedAt`, or now.
 */
export function importedRecord(definition: EntityDefinition, record: unknown): ImportedRecord {
  const given = (record ?? {}) as Partial<Record<string, unknown>>;
  const { deletedAt: mark, ...rest } = given;
  // Only a softDelete entity reserves `deletedAt`; elsewhere it may be a field of the entity's own.
  const ownField = !definition.softDelete && definition.fieldsByName.has('deletedAt');
  const deletedAt = ownField ? undefined : mark;
  const kept = ownField ? given : rest;
  const { id, version, createdAt, updatedAt } = kept;
  const problems: string[] = [];
  if (!isRecordId(id)) problems.push('id must be 1 to 128 letters, digits, "-" or "_"');
  else if (isRouteName(id)) problems.push(`id ${id} is the name of the change feed's route (GET /${definition.path}/changes), which would answer in its place`);
  if (version !== undefined && (!Number.isSafeInteger(version) || (version as number) < 1 || (version as number) > MAX_IMPORTED_VERSION)) {
    problems.push(`version must be a positive integer up to ${MAX_IMPORTED_VERSION}`);
  }
  const deletedTime = deletedAt === undefined ? undefined : isoDateOf(deletedAt);
  const times = restoredTimes(createdAt, updatedAt, deletedTime, problems);
  if (deletedAt !== undefined && !definition.softDelete) problems.push(`deletedAt: ${definition.name} keeps no deleted records (no softDelete)`);
  else if (deletedAt !== undefined && deletedTime === undefined) problems.push('deletedAt must be an ISO 8601 date');
  // Not against updatedAt: a migration (or drop-fields) changing a soft-deleted record dates that change after its delete.
  else if (deletedTime !== undefined && times[0] !== '' && deletedTime < times[0]) problems.push('deletedAt must not be before createdAt');
  if (problems.length > 0) throw new InvalidRecordException(definition.name, problems);
  return {
    id: id as string,
    version: (version as number | undefined) ?? 1,
    exported: version !== undefined,
    input: record === null || typeof record !== 'object' ? record : kept,
    createdAt: times[0],
    updatedAt: times[1],
    ...(deletedTime !== undefined && { deletedAt: deletedTime }),
  };
}

/**
 * A restored record's `createdAt` and `updatedAt` in stored form. One left out is the other;
 * both left out are its `deletedAt`, or now. A `createdAt` after the `updatedAt` is refused.
 */
function restoredTimes(createdAt: unknown, updatedAt: unknown, deletedAt: string | undefined, problems: string[]): [string, string] {
  const created = createdAt === undefined ? undefined : storedTime(createdAt, 'createdAt', problems);
  const updated = updatedAt === undefined ? undefined : storedTime(updatedAt, 'updatedAt', problems);
  const fallback = deletedAt ?? new Date().toISOString();
  const times: [string, string] = [created ?? updated ?? fallback, updated ?? created ?? fallback];
  if (created && updated && created > updated) problems.push('createdAt must not be after updatedAt');
  return times;
}

function storedTime(value: unknown, field: string, problems: string[]): string {
  const stored = isoDateOf(value);
  if (stored !== undefined) return stored;
  problems.push(`${field} must be an ISO 8601 date`);
  return '';
}
