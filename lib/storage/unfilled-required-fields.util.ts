import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import type { StoreCatalog } from './store-catalog.util.js';

/** A field required now, not before, and how many stored records lack it. */
export interface UnfilledField {
  entity: string;
  field: string;
  records: number;
}

/**
 * The fields that became required since the catalog `previous` was recorded (new ones, or
 * made required) which live records still lack once migrations have run: they are read
 * without the field, though the OpenAPI document says it is always there. Found by one walk
 * over the records of the entities concerned, only on the start that brings the change.
 */
export function unfilledRequiredFields(
  previous: StoreCatalog | undefined,
  definitions: readonly EntityDefinition[],
  tablesOf: (definition: EntityDefinition) => EntityTables,
): UnfilledField[] {
  if (!previous) return [];
  return definitions.flatMap((definition) => {
    const recorded = previous.entities.find((entity) => entity.name === definition.name);
    if (!recorded) return [];
    const wasRequired = new Set(recorded.fields.filter((field) => field.required).map((field) => field.name));
    const newly = definition.fields.filter((field) => field.required && !wasRequired.has(field.name)).map((field) => field.name);
    if (newly.length === 0) return [];
    const missing = new Map(newly.map((field) => [field, 0]));
    for (const { value } of tablesOf(definition).records.getRange({})) {
      for (const field of newly) if (value[field] === undefined) missing.set(field, missing.get(field)! + 1);
    }
    return [...missing].filter(([, records]) => records > 0).map(([field, records]) => ({ entity: definition.name, field, records }));
  });
}
