import { FIELD_NAME, FORBIDDEN_KEYS, RESERVED_FIELDS } from '../common/metadata.constants.js';
import type { EntityMigration } from './decorator-options.interface.js';
import type { FieldDefinition } from './entity-definition.interface.js';

const STEP_KEYS = new Set(['version', 'description', 'rename', 'remove', 'fill', 'update']);

/**
 * `@Entity({ migrations })` checked at start-up, so a mistake in a step fails before any
 * record goes through it: numbered 2, 3, ... in order, each naming usable fields, and every
 * field a step brings in (renamed to, filled) either declared by the class or taken away
 * again by a later step.
 */
export function checkedMigrations(
  migrations: unknown,
  fieldsByName: ReadonlyMap<string, FieldDefinition>,
  fail: (problem: string) => never,
): readonly EntityMigration[] {
  if (migrations === undefined) return Object.freeze([]);
  if (!Array.isArray(migrations)) fail('@Entity migrations must be an array of steps');
  const steps = (migrations as unknown[]).map((step, at) => checkedStep(step, at, fail));
  steps.forEach((step, at) => {
    const later = steps.slice(at + 1);
    const takenAway = (name: string) => later.some(({ rename, remove }) => remove?.includes(name) || (rename && Object.hasOwn(rename, name)));
    const brought = [...Object.values(step.rename ?? {}), ...Object.keys(step.fill ?? {})];
    for (const name of brought) {
      if (!fieldsByName.has(name) && !takenAway(name)) {
        fail(`@Entity migrations, version ${step.version}: brings in "${name}", which the class does not declare with @Field()`);
      }
    }
  });
  return Object.freeze(steps);
}

/** Where the values written under a name a migration renamed away are now. */
export interface RenamedName {
  /** Every name of now such a value may be under. */
  names: ReadonlySet<string>;
  /** Whether a later step removed some of them. */
  removed: boolean;
}

/**
 * Each name a rename took away → where a value written under it may be now: a name means another
 * field before each step that renames it (a name freed and used again, a swap), and what was
 * written under it then went on through the later steps, renamed first and then removed, as the
 * steps run.
 */
export function renamedNamesOf(migrations: readonly EntityMigration[]): ReadonlyMap<string, RenamedName> {
  const renamed = new Set(migrations.flatMap(({ rename = {} }) => Object.keys(rename)));
  const result = new Map<string, RenamedName>();
  for (const name of renamed) {
    const names = new Set<string>();
    let removed = false;
    // Written before step `from`: taken through it and every step after.
    for (let from = 0; from < migrations.length; from++) {
      let now: string | undefined = name;
      for (const { rename = {}, remove = [] } of migrations.slice(from)) {
        if (Object.hasOwn(rename, now)) now = rename[now]!;
        if (remove.includes(now)) {
          now = undefined;
          break;
        }
      }
      if (now === undefined) removed = true;
      else if (now !== name) names.add(now);
    }
    result.set(name, { names, removed });
  }
  return result;
}

function checkedStep(step: unknown, at: number, fail: (problem: string) => never): EntityMigration {
  const expected = at + 2;
  const label = `@Entity migrations[${at}]`;
  if (step === null || typeof step !== 'object' || Array.isArray(step)) fail(`${label} must be an object`);
  const { version, description, rename, remove, fill, update } = step as Record<string, unknown>;
  if (version !== expected) {
    fail(`${label}: version must be ${expected} (steps are numbered 2, 3, ... oldest first), not ${JSON.stringify(version) ?? 'missing'}`);
  }
  const within = `@Entity migrations, version ${expected}`;
  const unknown = Object.keys(step as object).filter((key) => !STEP_KEYS.has(key));
  if (unknown.length > 0) fail(`${within}: unknown ${unknown.join(', ')} (a step has ${[...STEP_KEYS].join(', ')})`);
  if (description !== undefined && typeof description !== 'string') fail(`${within}: description must be a string`);
  const field = (name: unknown, role: string) => {
    if (typeof name !== 'string' || !FIELD_NAME.test(name) || FORBIDDEN_KEYS.has(name))
      fail(`${within}: ${role} ${JSON.stringify(name)} is not a usable field name`);
    if ((RESERVED_FIELDS as readonly string[]).includes(name as string)) fail(`${within}: ${role} "${name}" is managed by the package`);
    return name as string;
  };
  if (rename !== undefined) {
    if (!isPlainObject(rename)) fail(`${within}: rename must map old field names to new ones`);
    const targets = new Set<string>();
    for (const [from, to] of Object.entries(rename as object)) {
      field(from, 'rename of');
      field(to, 'rename to');
      if (from === to || targets.has(to as string)) fail(`${within}: rename gives "${to}" twice or to itself`);
      targets.add(to as string);
    }
  }
  if (remove !== undefined) {
    if (!Array.isArray(remove)) fail(`${within}: remove must be an array of field names`);
    for (const name of remove as unknown[]) field(name, 'remove of');
  }
  if (fill !== undefined) {
    if (!isPlainObject(fill)) fail(`${within}: fill must map field names to values`);
    for (const [name, value] of Object.entries(fill as object)) {
      field(name, 'fill of');
      if (value === undefined || value === null) fail(`${within}: fill of "${name}" needs a value`);
    }
  }
  if (update !== undefined && typeof update !== 'function') fail(`${within}: update must be a function`);
  // A migration decides inside a write transaction, which cannot wait for a promise.
  if (typeof update === 'function' && update.constructor.name === 'AsyncFunction') fail(`${within}: update must not be async`);
  if (rename === undefined && remove === undefined && fill === undefined && update === undefined) {
    fail(`${within}: says nothing to do (give rename, remove, fill or update)`);
  }
  return Object.freeze({ ...(step as EntityMigration) });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
