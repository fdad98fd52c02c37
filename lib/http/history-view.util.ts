import type { FieldHistoryEntry, RecordHistory } from '../storage/field-history.store.js';

/** A field history entry as the route answers it: `actor` always present. */
export type FieldHistoryResponseEntry = Omit<FieldHistoryEntry, 'actor'> & { actor: string | null };

/** A record's history as `GET /P/:id/history` returns it: every entry names its `actor`, null for an anonymous write. */
export function toHistoryResponse(history: RecordHistory): { id: string; fields: Record<string, FieldHistoryResponseEntry[]> } {
  const fields: Record<string, FieldHistoryResponseEntry[]> = {};
  for (const [field, entries] of Object.entries(history.fields)) fields[field] = entries.map((entry) => ({ ...entry, actor: entry.actor ?? null }));
  return { id: history.id, fields };
}
