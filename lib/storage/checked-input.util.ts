import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { StoredRecord } from './entity-event.interface.js';
import { InvalidRecordException } from './invalid-record.exception.js';
import { normalizeRecordInput, replacesAll, type InputMode } from './record-input.util.js';

/**
 * A write's input as the data of its event: normalized as `mode` takes it and, for a change
 * of the record `before`, leaving its immutable fields as they are; otherwise an
 * `InvalidRecordException` listing every problem.
 */
export function checkedInput(definition: EntityDefinition, input: unknown, mode: InputMode, before?: StoredRecord): Record<string, unknown> {
  const { data, problems } = normalizeRecordInput(definition, input, mode);
  if (before) {
    for (const field of definition.fields) {
      if (!field.immutable) continue;
      const changes = replacesAll(mode) || Object.prototype.hasOwnProperty.call(data, field.name);
      if (changes && (data[field.name] ?? undefined) !== before[field.name]) problems.push(`${field.name} is immutable`);
    }
  }
  if (problems.length > 0) throw new InvalidRecordException(definition.name, problems);
  return data;
}
