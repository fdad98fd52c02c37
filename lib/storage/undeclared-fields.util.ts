import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { RESERVED_FIELDS } from '../common/metadata.constants.js';

const MANAGED = new Set<string>(RESERVED_FIELDS);

/**
 * The fields a stored record holds that its entity no longer declares: left by a field
 * removed from the class since the record was written. Not the managed ones (id, version,
 * createdAt, updatedAt).
 */
export function undeclaredFields(definition: EntityDefinition, record: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(record).filter((field) => !definition.fieldsByName.has(field) && !MANAGED.has(field));
}
