import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { RecordHistory } from '../storage/field-history.store.js';

const NONE: ReadonlySet<string> = new Set();

/**
 * A record as the API returns it: managed fields first, then the declared fields; hidden
 * fields, those the principal may not read and those no longer declared left out.
 */
export function toRecordView(definition: EntityDefinition, record: StoredRecord, unreadable: ReadonlySet<string> = NONE): Record<string, unknown> {
  const view = managedFieldsOf(record);
  for (const field of definition.fields) {
    if (!field.hidden && !unreadable.has(field.name) && record[field.name] !== undefined) view[field.name] = record[field.name];
  }
  return view;
}

/**
 * A record as trusted code gets it: managed fields first, then every declared field, hidden
 * ones included. A field removed from the class stays in records stored before, until they
 * are cleaned up; it is no part of the entity any more, so no view returns it.
 */
export function toDeclaredRecord(definition: EntityDefinition, record: StoredRecord): Record<string, unknown> {
  const view = managedFieldsOf(record);
  for (const field of definition.fields) if (record[field.name] !== undefined) view[field.name] = record[field.name];
  return view;
}

function managedFieldsOf(record: StoredRecord): Record<string, unknown> {
  return { id: record.id, version: record.version, createdAt: record.createdAt, updatedAt: record.updatedAt };
}

/** A record's history as the API returns it: hidden and unreadable fields left out. */
export function toHistoryView(definition: EntityDefinition, history: RecordHistory, unreadable: ReadonlySet<string> = NONE): RecordHistory {
  const fields: RecordHistory['fields'] = {};
  for (const field of definition.fields) {
    const entries = history.fields[field.name];
    if (entries && !field.hidden && !unreadable.has(field.name)) fields[field.name] = entries;
  }
  return { id: history.id, fields };
}
