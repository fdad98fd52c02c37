import { isDeepStrictEqual } from 'node:util';
import type { EntityDefinition, FieldDefinition, Principal } from '../../../lib/index.js';
import { PermissionSet } from '../../../lib/permission/permission-set.js';

export type WriteMode = 'create' | 'replace' | 'update';
type Data = Record<string, unknown>;

const MANAGED = new Set(['id', 'version', 'createdAt', 'updatedAt']);
export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A field value in stored form: numbers as JSON.parse gave them (-0 as 0), dates as `toISOString()`. */
export function storedForm(field: FieldDefinition, value: unknown): unknown {
  if (field.type === 'number') return Object.is(value, -0) ? 0 : value;
  if (field.type === 'date') return new Date(Date.parse(value as string)).toISOString();
  return value;
}

/** The fields a record holds, without managed ones and without cleared (null) ones. */
export function fieldsOf(record: Data): Data {
  return Object.fromEntries(Object.entries(record).filter(([key, value]) => !MANAGED.has(key) && value !== null && value !== undefined));
}

/**
 * What a write that was answered 2xx must have stored, from API.md and README: defaults
 * for missing fields, `null` clearing on PATCH, the owner field stamped from the principal
 * and never taken from a body, fields the principal may not write kept by a PUT, and so are
 * those it cannot read (hidden ones too) when the PUT leaves them out.
 */
export function expectedFields(
  definition: EntityDefinition,
  body: Data,
  mode: WriteMode,
  before: Data | undefined,
  principal: Principal | undefined,
  roles: Readonly<Record<string, readonly string[]>>,
): Data {
  const permissions = new PermissionSet(principal, roles);
  const owner = definition.permissions?.owner;
  const result: Data = {};
  const set = (name: string, value: unknown) => {
    if (value !== undefined && value !== null) result[name] = value;
  };
  for (const field of definition.fields) {
    const name = field.name;
    if (name === owner) {
      set(name, mode === 'create' ? principal?.id : before?.[name]);
      continue;
    }
    const unwritable = field.permission?.write !== undefined && !(principal !== undefined && permissions.holds(field.permission.write));
    if (mode === 'replace' && unwritable) {
      set(name, before?.[name]);
      continue;
    }
    const raw = Object.hasOwn(body, name) ? body[name] : undefined;
    const unseen = field.hidden || (field.permission?.read !== undefined && !(principal !== undefined && permissions.holds(field.permission.read)));
    if (mode === 'replace' && unseen && raw === undefined) {
      set(name, before?.[name]);
      continue;
    }
    if (mode === 'update') {
      if (raw === undefined) set(name, before?.[name]);
      else if (raw !== null) set(name, storedForm(field, raw));
      continue;
    }
    if (raw === undefined || raw === null) set(name, field.default === undefined ? undefined : storedForm(field, field.default));
    else set(name, storedForm(field, raw));
  }
  return result;
}

/** Fields the principal may not read, and hidden ones: never in an answer. */
export function unseenFields(definition: EntityDefinition, principal: Principal | undefined, roles: Readonly<Record<string, readonly string[]>>): string[] {
  const permissions = new PermissionSet(principal, roles);
  return definition.fields
    .filter((field) => field.hidden || (field.permission?.read !== undefined && !(principal !== undefined && permissions.holds(field.permission.read))))
    .map((field) => field.name);
}

/** Problems of an answered record against the stored one: every value it shows is stored, no unseen field shows. */
export function viewProblems(view: Data, stored: Data, unseen: readonly string[]): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(view)) {
    if (unseen.includes(key)) problems.push(`the answer shows ${key}, which this principal may not see`);
    else if (!isDeepStrictEqual(value, stored[key])) problems.push(`the answer's ${key} differs from the stored one`);
  }
  for (const key of ['id', 'version', 'createdAt', 'updatedAt']) if (!(key in view)) problems.push(`the answer lacks ${key}`);
  return problems;
}

/** The difference between the fields stored and those expected, named, or nothing. */
export function fieldProblems(stored: Data, expected: Data): string[] {
  const actual = fieldsOf(stored);
  const names = new Set([...Object.keys(actual), ...Object.keys(expected)]);
  return [...names].filter((name) => !isDeepStrictEqual(actual[name], expected[name])).map((name) => `stored ${name} is not what was sent`);
}

/** A stored value as a list query spells it for an equality filter. */
export function queryValueOf(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

/** Whether a listed item satisfies `key=value` as the package reads query values. */
export function satisfiesEquality(field: FieldDefinition | undefined, item: Data, key: string, value: string): boolean {
  const actual = item[key];
  if (!field || field.type === 'string') return actual === value;
  if (field.type === 'number') return actual === Number(value);
  if (field.type === 'boolean') return actual === (value === 'true');
  return typeof actual === 'string' && Date.parse(actual) === Date.parse(value);
}
