import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { RecordHistory } from '../storage/field-history.store.js';

/** A record as the API returns it: managed fields first, hidden fields left out. */
export function toRecordView(definition: EntityDefinition, record: StoredRecord): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: record.id,
    version: record.version,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  for (const field of definition.fields) {
    if (!field.hidden && record[field.name] !== undefined) view[field.name] = record[field.name];
  }
  return view;
}

/** A record's history as the API returns it: hidden fields left out. */
export function toHistoryView(definition: EntityDefinition, history: RecordHistory): RecordHistory {
  const fields: RecordHistory['fields'] = {};
  for (const field of definition.fields) {
    const entries = history.fields[field.name];
    if (entries && !field.hidden) fields[field.name] = entries;
  }
  return { id: history.id, fields };
}
