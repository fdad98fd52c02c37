import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { StoredRecord } from './entity-event.interface.js';
import { InvalidRecordException } from './invalid-record.exception.js';
import type { WriteContext } from './write-context.interface.js';

/**
 * What a checked change's caller cannot see of the record it changes. A change must not tell
 * such a caller anything about those values: not whether it left them as they were, nor
 * whether a value it sent for an immutable one matched.
 */
export interface Unseen {
  /** Whether the caller may not read the record at all (`WriteContext.readable`): then every field is unseen. */
  readonly record: boolean;
  /** Whether the caller cannot see the field: hidden, under a read rule it lacks, or of a record it may not read. */
  has(field: string): boolean;
  /** Whether some field is unseen. */
  readonly any: boolean;
}

/** What a checked change's caller cannot see of `before`; `undefined` for an unchecked change. */
export function unseenIn(definition: EntityDefinition, context: WriteContext, before: StoredRecord): Unseen | undefined {
  const unreadable = context.unreadable;
  if (!unreadable) return undefined;
  const record = context.readable !== undefined && !context.readable(before);
  const { hidden } = fieldKindsOf(definition);
  return {
    record,
    has: (field) => record || unreadable.has(field) || hidden.has(field),
    any: record || unreadable.size > 0 || hidden.size > 0,
  };
}

/** The immutable fields of `input` its caller cannot see. */
export function unseenImmutables(definition: EntityDefinition, unseen: Unseen, input: unknown): string[] {
  if (input === null || typeof input !== 'object') return [];
  const sent: string[] = [];
  for (const field of fieldKindsOf(definition).immutable) if (Object.prototype.hasOwnProperty.call(input, field) && unseen.has(field)) sent.push(field);
  return sent;
}

/**
 * Refuses an update naming an immutable field its caller cannot see, whatever the value:
 * accepted when it equals the stored one and refused otherwise, it would confirm a guess.
 */
export function refuseUnseenImmutables(definition: EntityDefinition, unseen: Unseen, input: unknown): void {
  const sent = unseenImmutables(definition, unseen, input);
  if (sent.length > 0)
    throw new InvalidRecordException(
      definition.name,
      sent.map((field) => `${field} is immutable`),
    );
}

interface FieldKinds {
  hidden: ReadonlySet<string>;
  immutable: readonly string[];
}

// Keyed by definitions, which live as long as the app: read on every checked change.
const KINDS = new WeakMap<EntityDefinition, FieldKinds>();

function fieldKindsOf(definition: EntityDefinition): FieldKinds {
  let kinds = KINDS.get(definition);
  if (!kinds) {
    kinds = {
      hidden: new Set(definition.fields.filter((field) => field.hidden).map((field) => field.name)),
      immutable: definition.fields.filter((field) => field.immutable).map((field) => field.name),
    };
    KINDS.set(definition, kinds);
  }
  return kinds;
}
