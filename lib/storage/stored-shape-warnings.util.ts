import { isoDateOf } from '../common/date-value.util.js';
import { DELETED_AT } from '../common/metadata.constants.js';
import type { FieldType } from '../metadata/decorator-options.interface.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import type { StoreCatalog } from './store-catalog.util.js';

/**
 * What a start that changed the classes leaves for a migration step to do, as warnings: fields
 * required now, not before, that live records lack (they are read without the field, though
 * the OpenAPI document says it is always there), and fields whose type changed, whose stored
 * values are read as they were written. Found by one walk over the records of the entities
 * concerned, only on the start that brings the change, once migrations have run.
 */
export function storedShapeWarnings(
  previous: StoreCatalog | undefined,
  definitions: readonly EntityDefinition[],
  tablesOf: (definition: EntityDefinition) => EntityTables,
): string[] {
  if (!previous) return [];
  return definitions.flatMap((definition) => {
    const recorded = previous.entities.find((entity) => entity.name === definition.name);
    if (!recorded) return [];
    const before = new Map(recorded.fields.map((field) => [field.name, field]));
    const newlyRequired = definition.fields.filter((field) => field.required && !before.get(field.name)?.required).map((field) => field.name);
    const retyped = definition.fields.filter((field) => before.has(field.name) && before.get(field.name)!.type !== field.type);
    // A `deletedAt` of the app's own (removed from the class at this start or an earlier one),
    // which `softDelete`, turned on now, reserves.
    const reservedNow = definition.softDelete && !recorded.softDelete;
    if (newlyRequired.length === 0 && retyped.length === 0 && !reservedNow) return [];
    const lacking = new Map(newlyRequired.map((field) => [field, 0]));
    const misfit = new Map(retyped.map((field) => [field.name, 0]));
    let markedDeleted = 0;
    for (const { value } of tablesOf(definition).records.getRange({})) {
      for (const field of newlyRequired) if (value[field] === undefined) lacking.set(field, lacking.get(field)! + 1);
      for (const { name, type } of retyped) if (value[name] !== undefined && !holdsType(type, value[name])) misfit.set(name, misfit.get(name)! + 1);
      if (reservedNow && value[DELETED_AT] !== undefined) markedDeleted++;
    }
    const entity = definition.name;
    return [
      ...(markedDeleted > 0
        ? [
            `${entity}.${DELETED_AT} was a field of its own; softDelete reserves it now, and ${markedDeleted} live records still hold it, ` +
              "which makes them read as deleted: run the command line's drop-fields to remove it",
          ]
        : []),
      ...[...lacking]
        .filter(([, records]) => records > 0)
        .map(([field, records]) => `${entity}.${field} is required now, but ${records} stored records lack it: add a migration step that fills it`),
      ...[...misfit]
        .filter(([, records]) => records > 0)
        .map(
          ([field, records]) =>
            `${entity}.${field} was a ${before.get(field)!.type} and is a ${definition.fieldsByName.get(field)!.type} now, but ${records} stored records ` +
            `hold a value that is not: they are read as stored, and refused by import, until a migration step's update converts them`,
        ),
    ];
  });
}

/** Whether a stored value is of the field type, in stored form (a date as its ISO string). */
function holdsType(type: FieldType, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'date':
      // In stored form only: another text of the same instant (`t`, an offset) sorts apart in indexes.
      return typeof value === 'string' && isoDateOf(value) === value;
  }
}
