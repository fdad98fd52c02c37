import { isoDateOf } from '../common/date-value.util.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { InvalidRecordException } from './invalid-record.exception.js';
import { isRecordId, isRouteName } from './record-id.util.js';

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
 * `InvalidRecordException` lists every problem. A time left out is now.
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
  if (version !== undefined && (!Number.isInteger(version) || (version as number) < 1)) problems.push('version must be a positive integer');
  const times = [createdAt, updatedAt].map((time, i) => restoredTime(time, i === 0 ? 'createdAt' : 'updatedAt', problems));
  const deletedTime = deletedAt === undefined ? undefined : isoDateOf(deletedAt);
  if (deletedAt !== undefined && !definition.softDelete) problems.push(`deletedAt: ${definition.name} keeps no deleted records (no softDelete)`);
  else if (deletedAt !== undefined && deletedTime === undefined) problems.push('deletedAt must be an ISO 8601 date');
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

/** A restored record's `createdAt` or `updatedAt` in stored form; now when absent. */
function restoredTime(value: unknown, field: string, problems: string[]): string {
  if (value === undefined) return new Date().toISOString();
  const stored = isoDateOf(value);
  if (stored !== undefined) return stored;
  problems.push(`${field} must be an ISO 8601 date`);
  return '';
}
