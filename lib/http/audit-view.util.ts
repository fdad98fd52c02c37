import type { AuditEntry } from '../audit/audit-entry.interface.js';

const NONE: ReadonlySet<string> = new Set();

/**
 * An audit entry as `GET /P/:id/audit` returns it: changes to fields the principal may not read
 * left out; `actor` null for an anonymous write and `version` null for a refused one, so every
 * entry has the keys the API names.
 */
export function toAuditView(entry: AuditEntry, unreadable: ReadonlySet<string> = NONE): Record<string, unknown> {
  const changes: AuditEntry['changes'] = {};
  for (const [field, change] of Object.entries(entry.changes)) if (!unreadable.has(field)) changes[field] = change;
  return {
    action: entry.action,
    actor: entry.actor ?? null,
    at: entry.at,
    version: entry.version ?? null,
    ...(entry.migration !== undefined && { migration: entry.migration }),
    changes,
    ...(entry.request && { request: entry.request }),
  };
}
