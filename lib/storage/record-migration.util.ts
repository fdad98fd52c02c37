import { RESERVED_FIELDS } from '../common/metadata.constants.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { StoredRecord } from './entity-event.interface.js';
import { normalizeRecordInput } from './record-input.util.js';

const MANAGED = new Set<string>(RESERVED_FIELDS);

/** What a migration changes in one record: the data of its update event and the fields it renamed. */
export interface RecordMigration {
  /** Fields set, and cleared (`null`), as an `updated` event carries them. */
  data: Record<string, unknown>;
  /** Old name → new name, over all the steps run (a rename of a to b then b to c is a to c). */
  renamed?: Record<string, string>;
}

/** A record through the steps: its change (none when it stays as it is), or why it cannot go through. */
export type MigrationOutcome = { change?: RecordMigration; problems?: undefined } | { problems: string[] };

/**
 * Runs a stored record through the entity's migration steps after version `from` up to `to`, in memory.
 * What the steps set is checked as an update of the entity as declared now: a value of the
 * wrong type, a required field cleared or a field the class does not declare is a problem.
 * Fields the record held that no step touched are left alone.
 */
export function migrateRecord(definition: EntityDefinition, record: StoredRecord, from: number, to: number): MigrationOutcome {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) if (!MANAGED.has(name)) fields[name] = value;
  const renamed = new Map<string, string>();
  const problems: string[] = [];
  for (const step of definition.migrations) {
    if (step.version <= from || step.version > to) continue;
    renameFields(fields, renamed, Object.entries(step.rename ?? {}));
    for (const name of step.remove ?? []) delete fields[name];
    for (const [name, value] of Object.entries(step.fill ?? {})) if (fields[name] === undefined) fields[name] = value;
    if (step.update) {
      let set: unknown;
      try {
        set = step.update(Object.freeze({ ...fields }));
      } catch (error) {
        problems.push(`version ${step.version} update failed: ${error instanceof Error ? error.message : String(error)}`);
        break;
      }
      if (typeof (set as { then?: unknown } | null)?.then === 'function') {
        problems.push(`version ${step.version} update returned a promise: it must return the fields to set, not wait for them`);
        break;
      }
      if (set !== undefined && (set === null || typeof set !== 'object' || Array.isArray(set))) {
        problems.push(`version ${step.version} update must return an object of fields to set, or nothing`);
        break;
      }
      for (const [name, value] of Object.entries((set as Record<string, unknown> | undefined) ?? {})) {
        if (MANAGED.has(name)) problems.push(`version ${step.version} update sets ${name}, which the package manages`);
        else if (value === null) delete fields[name];
        else if (value !== undefined) fields[name] = value;
      }
    }
  }
  if (problems.length > 0) return { problems };
  const data: Record<string, unknown> = {};
  for (const name of new Set([...Object.keys(fields), ...Object.keys(record)])) {
    if (MANAGED.has(name)) continue;
    if (fields[name] === undefined) {
      if (record[name] !== undefined) data[name] = null;
    } else if (fields[name] !== record[name]) data[name] = fields[name];
  }
  // A run cut short by older code ends at its own version first, whose class this one is not.
  if (to < definition.version) return changeOf(data, renamed);
  // Checked as the update it becomes; a field no step touched was never the migration's to judge.
  const declared = Object.fromEntries(Object.entries(data).filter(([name]) => definition.fieldsByName.has(name)));
  const checked = normalizeRecordInput(definition, declared, 'update');
  for (const name of Object.keys(data)) {
    if (!definition.fieldsByName.has(name) && data[name] !== null) checked.problems.push(`${name} is not a field of ${definition.name}`);
  }
  if (checked.problems.length > 0) return { problems: checked.problems };
  Object.assign(data, checked.data);
  // Stored as normalized, a value equal to the one the record holds is no change.
  for (const name of Object.keys(data)) if (data[name] === record[name]) delete data[name];
  return changeOf(data, renamed);
}

/**
 * One step's renames, all at once: every old value is read before any is written, so a swap
 * (`{ a: 'b', b: 'a' }`) or a shift (`{ a: 'b', b: 'c' }`) moves each value once. A record
 * without the old field keeps whatever it has under the new name. `renamed` (first name →
 * name now) follows each field through the steps.
 */
function renameFields(fields: Record<string, unknown>, renamed: Map<string, string>, renames: ReadonlyArray<[string, string]>): void {
  if (renames.length === 0) return;
  moveFields(fields, renames);
  const originOf = new Map([...renamed].map(([origin, now]) => [now, origin]));
  for (const [old] of renames) renamed.delete(originOf.get(old) ?? old);
  for (const [old, next] of renames) renamed.set(originOf.get(old) ?? old, next);
}

/** Moves each value of `fields` from its old name to its new one (`renames`), all read before any is set: a swap moves each once. */
export function moveFields(fields: Record<string, unknown>, renames: ReadonlyArray<[string, string]>): void {
  const values = renames.map(([old]) => fields[old]);
  for (const [old] of renames) delete fields[old];
  renames.forEach(([, next], i) => {
    if (values[i] !== undefined) fields[next] = values[i];
  });
}

/** No change when nothing moves; a rename alone is one (the field's history moves), which the caller keeps only for a record with such history. */
function changeOf(data: Record<string, unknown>, renamed: ReadonlyMap<string, string>): MigrationOutcome {
  const moved = [...renamed].filter(([old, next]) => old !== next);
  if (Object.keys(data).length === 0 && moved.length === 0) return {};
  return { change: { data, ...(moved.length > 0 && { renamed: Object.fromEntries(moved) }) } };
}
