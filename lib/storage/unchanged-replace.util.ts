import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { StoredRecord } from './entity-event.interface.js';
import { undeclaredFields } from './undeclared-fields.util.js';

/**
 * Whether a replace's checked data leaves the record as it is: every declared field the same,
 * and no value of a removed field that the replace would drop. Like an update that changes
 * nothing, it then writes no version, event, history or audit entry, so a client that PUTs
 * the same record again and again does not grow the log.
 */
export function replacesNothing(definition: EntityDefinition, data: Readonly<Record<string, unknown>>, before: StoredRecord): boolean {
  for (const { name } of definition.fields) if ((data[name] ?? undefined) !== before[name]) return false;
  return undeclaredFields(definition, before).length === 0;
}
