import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { StoredRecord } from './entity-event.interface.js';
import { InvalidRecordException } from './invalid-record.exception.js';
import type { WriteContext } from './write-context.interface.js';

/**
 * What a checked change's caller cannot see of the record it changes: its hidden fields and
 * those under a read rule it lacks, or every field when it may not read the record at all
 * (`WriteContext.readable`); `undefined` for an unchecked change. A change must not tell such
 * a caller anything about those values: not whether it left them as they were, nor whether a
 * value it sent for an immutable one matched.
 */
export function unseenFields(definition: EntityDefinition, context: WriteContext, before: StoredRecord): ReadonlySet<string> | undefined {
  if (!context.unreadable) return undefined;
  if (recordUnseen(context, before)) return new Set(definition.fields.map((field) => field.name));
  const hidden = definition.fields.filter((field) => field.hidden);
  return hidden.length === 0 ? context.unreadable : new Set([...context.unreadable, ...hidden.map((field) => field.name)]);
}

/** Whether a checked change's caller may not read the record it changes. */
export function recordUnseen(context: WriteContext, before: StoredRecord): boolean {
  return context.readable !== undefined && !context.readable(before);
}

/**
 * Refuses an immutable field the caller cannot see, whatever its value: accepted when it
 * equals the stored one and refused otherwise, it would confirm a guess.
 */
export function refuseUnseenImmutables(definition: EntityDefinition, unseen: ReadonlySet<string>, input: unknown): void {
  if (input === null || typeof input !== 'object') return;
  const sent = definition.fields.filter((field) => field.immutable && unseen.has(field.name) && Object.prototype.hasOwnProperty.call(input, field.name));
  if (sent.length > 0)
    throw new InvalidRecordException(
      definition.name,
      sent.map((field) => `${field.name} is immutable`),
    );
}
