import type { EntityDefinition, FieldDefinition } from '../metadata/entity-definition.interface.js';
import { isoDateOf } from '../common/date-value.util.js';
import { RESERVED_FIELDS } from '../common/metadata.constants.js';

/**
 * `import` is a create that may lack a required field: a store legally holds records written
 * before the field was required, and an export of it must import. `restore` is an exported
 * record's import and `revert` a replace with a past version's values: both bring back what
 * was stored, so an optional field left out (cleared, or declared since) stays out rather than
 * take its default; a required one takes the default it has.
 */
export type InputMode = 'create' | 'import' | 'restore' | 'replace' | 'revert' | 'update';

/** Per mode, what a field the input leaves out gets: its default (any, or a required field's only), and whether a required one may stay empty. */
const LEFT_OUT: Record<Exclude<InputMode, 'update'>, { defaults: 'all' | 'required'; requiredMayLack: boolean }> = {
  create: { defaults: 'all', requiredMayLack: false },
  replace: { defaults: 'all', requiredMayLack: false },
  import: { defaults: 'all', requiredMayLack: true },
  restore: { defaults: 'required', requiredMayLack: true },
  revert: { defaults: 'required', requiredMayLack: false },
};

/** Whether a mode replaces every field of a record (what it leaves out, it clears). */
export function replacesAll(mode: InputMode): boolean {
  return mode === 'replace' || mode === 'revert';
}

const RESERVED = new Set<string>(RESERVED_FIELDS);

/**
 * Checks a write's data against the definition and brings it to stored form (dates as
 * ISO strings). Returns the problems, each naming its field; the record is only written
 * when there are none. The result holds declared field names only, so keys such as
 * `__proto__` can never reach it. In `update` mode a `null` clears an optional field.
 */
export function normalizeRecordInput(definition: EntityDefinition, input: unknown, mode: InputMode): { data: Record<string, unknown>; problems: string[] } {
  const data: Record<string, unknown> = {};
  const problems: string[] = [];
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { data, problems: ['the data must be an object'] };
  }
  for (const key of Object.keys(input)) {
    if (!definition.fieldsByName.has(key) && !RESERVED.has(key)) problems.push(`property ${key} should not exist`);
  }
  const source = input as Record<string, unknown>;
  for (const field of definition.fields) {
    const present = Object.prototype.hasOwnProperty.call(source, field.name);
    const raw = present ? source[field.name] : undefined;
    if (raw === undefined || raw === null) {
      if (mode === 'update') {
        if (raw === null) {
          if (field.required) problems.push(`${field.name} is required and cannot be cleared`);
          else data[field.name] = null;
        }
        continue;
      }
      const { defaults, requiredMayLack } = LEFT_OUT[mode];
      if (field.default !== undefined && (defaults === 'all' || (defaults === 'required' && field.required))) {
        data[field.name] = normalizeValue(field, field.default, problems);
      } else if (field.required && !requiredMayLack) problems.push(`${field.name} is required`);
      continue;
    }
    const value = normalizeValue(field, raw, problems);
    if (value !== undefined) data[field.name] = value;
  }
  return { data, problems };
}

function normalizeValue(field: FieldDefinition, value: unknown, problems: string[]): unknown {
  switch (field.type) {
    case 'string':
      if (typeof value === 'string') {
        // A lone surrogate cannot be stored as UTF-8; it would come back as U+FFFD.
        if (value.isWellFormed()) return value;
        problems.push(`${field.name} must be valid Unicode text`);
        return undefined;
      }
      break;
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return value === 0 ? 0 : value;
      break;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      break;
    case 'date': {
      const stored = isoDateOf(value);
      if (stored !== undefined) return stored;
      problems.push(`${field.name} must be a valid ISO 8601 date`);
      return undefined;
    }
  }
  problems.push(`${field.name} must be a ${field.type === 'number' ? 'finite number' : field.type}`);
  return undefined;
}
