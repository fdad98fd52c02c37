import type { AuditEntry } from '../audit/audit-entry.interface.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { RecordHistory } from '../storage/field-history.store.js';

const NONE: ReadonlySet<string> = new Set();

/** A record as the API returns it: managed fields first; hidden fields and those the principal may not read left out. */
export function toRecordView(definition: EntityDefinition, record: StoredRecord, unreadable: ReadonlySet<string> = NONE): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: record.id,
    version: record.version,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  for (const field of definition.fields) {
    if (!field.hidden && !unreadable.has(field.name) && record[field.name] !== undefined) view[field.name] = record[field.name];
  }
  return view;
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

/** An audit entry as `GET /P/:id/audit` returns it: changes to fields the principal may not read left out. */
export function toAuditView(entry: AuditEntry, unreadable: ReadonlySet<string> = NONE): Record<string, unknown> {
  const changes: AuditEntry['changes'] = {};
  for (const [field, change] of Object.entries(entry.changes)) if (!unreadable.has(field)) changes[field] = change;
  return {
    action: entry.action,
    ...(entry.actor !== undefined && { actor: entry.actor }),
    at: entry.at,
    ...(entry.version !== undefined && { version: entry.version }),
    changes,
    ...(entry.request && { request: entry.request }),
  };
}
