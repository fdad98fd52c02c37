import type { AuditEntry } from '../audit/audit-entry.interface.js';
import { HIDDEN_VALUE } from '../audit/audit-mask.constants.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { renamedNamesOf } from '../metadata/entity-migrations.util.js';

const NONE: ReadonlySet<string> = new Set();

/** What the audit route needs of an entity's fields as declared now, to show entries written under earlier declarations. */
export interface AuditFields {
  hidden: ReadonlySet<string>;
  /** A name a migration renamed away → the names of now a value written under it may be under. */
  currentNames: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The entity's hidden fields, and the names of now of the fields its migrations renamed. */
export function auditFieldsOf(definition: EntityDefinition): AuditFields {
  return {
    hidden: new Set(definition.fields.filter((field) => field.hidden).map((field) => field.name)),
    currentNames: new Map([...renamedNamesOf(definition.migrations)].map(([was, { names }]) => [was, names])),
  };
}

/**
 * An audit entry as `GET /P/:id/audit` returns it: changes to fields the principal may not read
 * left out (every change, for `'all'`), values of `hidden` fields masked; `actor` null for an anonymous write and `version` null
 * for a refused one, so every entry has the keys the API names. An entry written before a field
 * was renamed, hidden or put under a read rule names it as it was then: the field's rules of now apply to it.
 */
export function toAuditView(entry: AuditEntry, unreadable: ReadonlySet<string> | 'all' = NONE, fields?: AuditFields): Record<string, unknown> {
  const changes: AuditEntry['changes'] = {};
  if (unreadable !== 'all') {
    for (const [field, change] of Object.entries(entry.changes)) {
      // Under any name it may have now: the strictest rule of those applies.
      const names = [field, ...(fields?.currentNames.get(field) ?? [])];
      if (names.some((name) => unreadable.has(name))) continue;
      const hidden = fields !== undefined && names.some((name) => fields.hidden.has(name));
      changes[field] = hidden ? { from: masked(change.from), to: masked(change.to) } : change;
    }
  }
  // Key by key: V8 takes about a microsecond to add a key after a spread that copied some.
  const view: Record<string, unknown> = { action: entry.action, actor: entry.actor ?? null, at: entry.at, version: entry.version ?? null };
  if (entry.migration !== undefined) view.migration = entry.migration;
  view.changes = changes;
  if (entry.request) view.request = entry.request;
  return view;
}

function masked(value: unknown): unknown {
  return value === null ? null : HIDDEN_VALUE;
}
