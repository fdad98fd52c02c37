import type { EntityDefinition, ReferenceDefinition } from '../metadata/entity-definition.interface.js';
import type { StoredRecord } from './entity-event.interface.js';
import type { EntityTables } from './entity-tables.interface.js';

/** A live record whose `@Reference` field names a record its target entity does not hold. */
export interface DanglingReference {
  entity: string;
  id: string;
  field: string;
  target: string;
  value: unknown;
}

/**
 * Every live record of `entities` that refers to a missing record. Writes keep references
 * whole; an import does not check them record by record (a record may come before the one it
 * refers to), so it, and `verify`, look afterwards.
 */
export function danglingReferences(
  entities: readonly EntityTables[],
  targetTablesOf: (source: EntityDefinition, reference: ReferenceDefinition) => EntityTables,
  /** Only these records, by entity name (those an import wrote); default every live record. */
  only?: ReadonlyMap<string, Iterable<string>>,
): DanglingReference[] {
  const dangling: DanglingReference[] = [];
  for (const tables of entities) {
    const { definition } = tables;
    if (definition.references.length === 0 || (only && !only.has(definition.name))) continue;
    const targets = definition.references.map((reference) => ({ reference, target: targetTablesOf(definition, reference) }));
    const records = only ? pick(tables, only.get(definition.name)!) : tables.records.getRange({});
    for (const { key, value } of records) {
      for (const { reference, target } of targets) {
        const referred = (value as Record<string, unknown>)[reference.field];
        if (referred === undefined || (typeof referred === 'string' && target.records.get(referred) !== undefined)) continue;
        dangling.push({ entity: definition.name, id: key, field: reference.field, target: target.definition.name, value: referred });
      }
    }
  }
  return dangling;
}

export function describeDangling({ entity, id, field, target, value }: DanglingReference): string {
  return `${entity} ${id}: ${field} refers to no ${target} record ${JSON.stringify(value)}`;
}

function* pick(tables: EntityTables, ids: Iterable<string>): Generator<{ key: string; value: StoredRecord }> {
  for (const id of ids) {
    const value = tables.records.get(id);
    if (value) yield { key: id, value };
  }
}
