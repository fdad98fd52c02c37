import type { Type } from '@nestjs/common';
import { storableTimeOf } from '../common/date-value.util.js';
import type { CachedOptions, FieldType, HistoryPolicy } from './decorator-options.interface.js';
import type { EntityDefinition, FieldDefinition, IndexDefinition, ReferenceDefinition } from './entity-definition.interface.js';
import { EntityMetadataException } from './entity-metadata.exception.js';
import { DELETED_AT, FIELD_NAME, FIELD_TYPES, FORBIDDEN_KEYS, RESERVED_FIELDS, STORAGE_NAME } from '../common/metadata.constants.js';
import {
  auditedReflector,
  cachedReflector,
  classHistoryReflector,
  entityPermissionReflector,
  entityReflector,
  readComposites,
  readDesignType,
  readPropertyFacts,
  type ReferenceFacts,
} from './metadata.reflector.js';
import { checkedMigrations } from './entity-migrations.util.js';
import { checkDecoratorOptions } from './decorator-options-check.util.js';
import { readValidationConstraints } from './validation-constraints.reflector.js';
import { derivedIndexName } from './index-name.util.js';

/** The list route's own query parameters: a reference named like one could not be filtered through. */
const QUERY_KEYS: ReadonlySet<string> = new Set(['sort', 'limit', 'cursor', 'deleted', 'include']);
const PATH_PATTERN = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;
const ENTITY_PERMISSION_KEYS = new Set(['read', 'create', 'update', 'delete', 'history', 'audit', 'admin', 'owner']);
/** Entity rules that may be `null` (open to everyone); `admin: null` would let anyone grant themselves any right. */
const OPENABLE_ENTITY_RULES = new Set(['read', 'create', 'update', 'delete', 'history', 'audit']);
const FIELD_PERMISSION_KEYS = new Set(['read', 'write']);
const NOTHING_OPENABLE: ReadonlySet<string> = new Set();

const DESIGN_TYPES = new Map<unknown, FieldType>([
  [String, 'string'],
  [Number, 'number'],
  [Boolean, 'boolean'],
  [Date, 'date'],
]);

/**
 * Reads the decorators of one class into a validated, frozen definition. Every mistake
 * fails here, at start-up, naming the class and the field.
 */
export function createEntityDefinition<T extends object>(target: Type<T>): EntityDefinition<T> {
  const className = target.name || '<anonymous class>';
  const fail = (field: string | undefined, problem: string): never => {
    throw new EntityMetadataException(className, field, problem);
  };

  const entity = entityReflector.get(target);
  if (!entity) fail(undefined, 'is not decorated with @Entity()');
  checkDecoratorOptions('@Entity', entity!, (problem) => fail(undefined, problem));
  const { name, path: rawPath, softDelete = false, migrations: declaredMigrations } = entity!;
  if (typeof softDelete !== 'boolean') fail(undefined, `@Entity softDelete must be true or false, not ${describeValue(softDelete)}`);
  if (typeof name !== 'string' || !STORAGE_NAME.test(name)) {
    fail(undefined, `@Entity name ${JSON.stringify(name)} must start with a letter and hold only letters, digits, "-" and "_" (64 at most)`);
  }
  const path = (rawPath ?? name).replace(/^\/+|\/+$/g, '');
  if (!PATH_PATTERN.test(path)) fail(undefined, `@Entity path ${JSON.stringify(rawPath)} is not a valid route path`);

  const classHistory = classHistoryReflector.get(target);
  if (classHistory !== undefined) checkHistoryPolicy(classHistory, (problem) => fail(undefined, problem));
  const constraints = readValidationConstraints(target);
  const fields: FieldDefinition[] = [];
  const indexes: IndexDefinition[] = [];
  const references: ReferenceDefinition[] = [];
  /** Where each index was declared, so an error about it names the field (or the composite's fields). */
  const declaredOn = new Map<string, string>();

  for (const [property, facts] of Object.entries(readPropertyFacts(target))) {
    const failField = (problem: string): never => fail(property, problem);
    if (!facts.field) {
      const used = facts.index ? '@Index' : facts.reference ? '@Reference' : facts.historize ? '@Historize' : '@Permission';
      failField(`${used} needs @Field() on the same property`);
    }
    if (!isUsableFieldName(property)) failField('is not a usable field name');
    if ((RESERVED_FIELDS as readonly string[]).includes(property)) {
      failField(`"${property}" is reserved (${RESERVED_FIELDS.join(', ')} are managed by the package)`);
    }
    if (softDelete && property === DELETED_AT) failField(`"${DELETED_AT}" is reserved on an entity with softDelete (deleted records carry it)`);
    const options = facts.field!;
    checkDecoratorOptions('@Field', options, failField);
    if (facts.index) checkDecoratorOptions('@Index', facts.index, failField);
    if (facts.reference) checkDecoratorOptions('@Reference', facts.reference, failField);
    const type = options.type ?? DESIGN_TYPES.get(readDesignType(target.prototype, property));
    if (!type || !(FIELD_TYPES as readonly string[]).includes(type)) {
      const designType = readDesignType(target.prototype, property) as { name?: string } | undefined;
      failField(`has no usable type (found ${designType?.name ?? 'none'}); use string, number, boolean or Date, or set @Field({ type })`);
    }
    // Checked here, or every create that leaves the field out would fail at run time instead.
    if (options.default !== undefined && !fitsType(type!, options.default)) {
      failField(`default ${describeValue(options.default)} is not a valid ${type} (the field's type)`);
    }
    const history = facts.historize ?? classHistory ?? 'never';
    checkHistoryPolicy(history, failField);
    if (facts.permission) checkRuleKeys(facts.permission, FIELD_PERMISSION_KEYS, NOTHING_OPENABLE, failField);
    fields.push(
      Object.freeze({
        name: property,
        type: type!,
        required: options.required ?? true,
        default: options.default,
        immutable: options.immutable ?? false,
        hidden: options.hidden ?? false,
        description: options.description,
        example: options.example,
        history,
        permission: facts.permission && Object.freeze({ ...facts.permission }),
        constraints: Object.freeze({ ...constraints.get(property) }),
      }),
    );
    if (facts.index) {
      indexes.push({ name: facts.index.name ?? derivedIndexName(property), fields: [property], unique: facts.index.unique ?? false });
      declaredOn.set(indexes.at(-1)!.name, property);
    }
    if (facts.reference) references.push(referenceOf(property, facts.reference, fields.at(-1)!, failField));
  }
  if (fields.length === 0) fail(undefined, 'declares no @Field()');
  const fieldsByName = new Map(fields.map((field) => [field.name, field]));

  for (const composite of readComposites(target)) {
    const label = `@Composite(${JSON.stringify(composite.fields)})`;
    if (!Array.isArray(composite.fields)) fail(undefined, `${label} must name its fields in an array`);
    if (composite.fields.length === 0) fail(undefined, `${label} names no field`);
    checkDecoratorOptions('@Composite', composite, (problem) => fail(undefined, problem));
    for (const field of composite.fields) {
      if (!fieldsByName.has(field)) fail(field, `${label} names a field that has no @Field()`);
    }
    if (new Set(composite.fields).size !== composite.fields.length) fail(undefined, `${label} names a field twice`);
    indexes.push({ name: composite.name ?? derivedIndexName(composite.fields.join('_')), fields: [...composite.fields], unique: composite.unique ?? false });
  }
  // The records referring to one record are found through an index led by the field.
  for (const { field } of references) {
    if (!indexes.some((index) => index.fields[0] === field)) {
      const name = derivedIndexName(field);
      indexes.push({ name, fields: [field], unique: false });
      declaredOn.set(name, field);
    }
  }
  const indexNames = new Set<string>();
  for (const index of indexes) {
    const where = declaredOn.get(index.name) ?? index.fields.join(',');
    if (!STORAGE_NAME.test(index.name)) {
      fail(where, `index name ${JSON.stringify(index.name)} must start with a letter and hold only letters, digits, "-" and "_"`);
    }
    if (indexNames.has(index.name)) fail(where, `two indexes are named "${index.name}"`);
    indexNames.add(index.name);
    if (index.unique) checkUniqueFieldsReadable(index, fieldsByName, declaredOn.has(index.name), fail);
  }

  const permissions = entityPermissionReflector.get(target);
  if (permissions) {
    checkRuleKeys(permissions, ENTITY_PERMISSION_KEYS, OPENABLE_ENTITY_RULES, (problem) => fail(undefined, `@Permission ${problem}`));
    if (permissions.owner !== undefined) {
      const owner = fieldsByName.get(permissions.owner);
      if (!owner || owner.type !== 'string') fail(permissions.owner, '@Permission owner must name a string @Field()');
    }
  }

  const migrations = checkedMigrations(declaredMigrations, fieldsByName, (problem) => fail(undefined, problem));

  return Object.freeze({
    target,
    name,
    path,
    fields: Object.freeze(fields),
    fieldsByName,
    indexes: Object.freeze(indexes.map((index) => Object.freeze({ ...index, fields: Object.freeze([...index.fields]) }))),
    references: Object.freeze(namedReferences(references, fieldsByName, softDelete, fail)),
    permissions: permissions && Object.freeze({ ...permissions }),
    audited: auditedReflector.get(target) ?? false,
    cached: checkedCachedOptions(cachedReflector.get(target), (problem) => fail(undefined, problem)),
    softDelete,
    version: migrations.at(-1)?.version ?? 1,
    migrations,
  });
}

const DELETE_RULES: readonly string[] = ['restrict', 'cascade', 'setNull'];

/** A name of `Object.prototype` (`valueOf`, `toString`) would be read from every object that lacks the field, here and in class-validator. */
function isUsableFieldName(name: string): boolean {
  return FIELD_NAME.test(name) && !FORBIDDEN_KEYS.has(name) && !(name in Object.prototype);
}

/** `@Cached`'s options, checked as the module's `cache.ttl` is. */
function checkedCachedOptions(options: CachedOptions | undefined, fail: (problem: string) => never): Readonly<CachedOptions> | undefined {
  if (options === undefined) return undefined;
  for (const key of Object.keys(options)) if (key !== 'ttl') fail(`@Cached has no option ${JSON.stringify(key)} (it takes ttl)`);
  const { ttl } = options;
  if (ttl !== undefined && !(typeof ttl === 'number' && Number.isFinite(ttl) && ttl >= 0)) {
    fail(`@Cached ttl must be a number of milliseconds from 0, not ${describeValue(ttl)}`);
  }
  return Object.freeze({ ...options });
}

/** A `@Reference` as declared on `field`, checked: ids are strings, and `setNull` needs a field that may be absent. */
function referenceOf(property: string, facts: ReferenceFacts, field: FieldDefinition, fail: (problem: string) => never): ReferenceDefinition {
  // A class is a function too, but calling one throws: the arrow is what lets entities refer to each other.
  if (typeof facts.target !== 'function' || /^class\b/.test(Function.prototype.toString.call(facts.target))) {
    fail('@Reference needs a function returning the entity class, e.g. @Reference(() => Permit)');
  }
  if (field.type !== 'string') fail(`@Reference holds a record id, so the field must be a string, not ${field.type}`);
  const onDelete = facts.onDelete ?? 'restrict';
  if (!DELETE_RULES.includes(onDelete)) fail(`@Reference onDelete must be one of ${DELETE_RULES.join(', ')}, not ${describeValue(onDelete)}`);
  if (onDelete === 'setNull' && field.required) fail("@Reference({ onDelete: 'setNull' }) removes the field, so it needs @Field({ required: false })");
  if (onDelete === 'setNull' && field.immutable) fail("@Reference({ onDelete: 'setNull' }) changes the field, which is immutable");
  if (facts.as !== undefined && (typeof facts.as !== 'string' || !isUsableFieldName(facts.as))) {
    fail(`@Reference as must be a usable field name, not ${describeValue(facts.as)}`);
  }
  return { field: property, target: facts.target, onDelete, ...(facts.as !== undefined && { as: facts.as }) };
}

/** A reference field's default name in `include` and filters: `permitId` or `permit_id` → `permit`. */
const ID_SUFFIX = /(?<=.)(?:Id|_id)$/;

/**
 * Names each reference for `include` and filters through it: its `as`, else its field without
 * the id suffix. Such a name appears beside the fields in a record and a query string, so it
 * may be none of them: a chosen one that is fails start-up, a derived one is dropped.
 */
function namedReferences(
  references: readonly ReferenceDefinition[],
  fieldsByName: ReadonlyMap<string, FieldDefinition>,
  softDelete: boolean,
  fail: (field: string, problem: string) => never,
): ReferenceDefinition[] {
  const taken = (name: string) =>
    fieldsByName.has(name) || (RESERVED_FIELDS as readonly string[]).includes(name) || (softDelete && name === DELETED_AT) || QUERY_KEYS.has(name);
  const named = new Map<string, string>();
  return references.map((reference) => {
    const chosen = reference.as;
    if (chosen !== undefined && taken(chosen)) fail(reference.field, `@Reference as "${chosen}" is already the name of a field or query parameter`);
    const derived = reference.field.replace(ID_SUFFIX, '');
    const as = chosen ?? (derived !== reference.field && !taken(derived) ? derived : undefined);
    if (as === undefined) return Object.freeze({ ...reference });
    const other = named.get(as);
    if (other) fail(reference.field, `@Reference is named "${as}" like ${other}'s; give one of them another name with as`);
    named.set(as, reference.field);
    return Object.freeze({ ...reference, as });
  });
}

/**
 * A unique index answers 409 to a write repeating a value, so it would confirm a value the
 * caller may not read (issue 14): refused for hidden fields and fields with a read rule.
 */
function checkUniqueFieldsReadable(
  index: IndexDefinition,
  fieldsByName: ReadonlyMap<string, FieldDefinition>,
  single: boolean,
  fail: (field: string, problem: string) => never,
): void {
  const label = single ? '@Index({ unique: true })' : `unique @Composite(${JSON.stringify(index.fields)})`;
  for (const name of index.fields) {
    const field = fieldsByName.get(name)!;
    const unseen = field.hidden ? 'is hidden' : field.permission?.read !== undefined ? `has a read rule (${field.permission.read})` : undefined;
    if (unseen) {
      const fix = field.hidden ? 'drop hidden' : 'drop its read rule';
      fail(name, `${unseen} and is in ${label}, whose 409 would confirm a value the caller may not read; use a non-unique index or ${fix}`);
    }
  }
}

/** Whether a default is a value the store accepts for a field of `type`. */
function fitsType(type: FieldType, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string' && value.isWellFormed();
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'date':
      return storableTimeOf(value) !== undefined;
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return Array.isArray(value) ? 'an array' : `a value of type ${typeof value}`;
}

function checkHistoryPolicy(policy: HistoryPolicy, fail: (problem: string) => never): void {
  if (policy === 'full' || policy === 'never') return;
  const versions = (policy as { versions?: unknown } | null)?.versions;
  if (typeof versions !== 'number' || !Number.isInteger(versions) || versions < 1) {
    fail(`@Historize policy ${JSON.stringify(policy)} must be 'full', 'never' or { versions: N } with N a positive integer`);
  }
}

function checkRuleKeys(rules: object, allowed: ReadonlySet<string>, openable: ReadonlySet<string>, fail: (problem: string) => never): void {
  for (const [key, value] of Object.entries(rules)) {
    if (!allowed.has(key)) fail(`has an unknown rule "${key}" (allowed: ${[...allowed].join(', ')})`);
    if (value === null && openable.has(key)) continue;
    if (typeof value !== 'string' || value.length === 0) {
      const why = openable.has(key) ? ' or null (open to everyone)' : key === 'admin' ? ' (null would let anyone grant themselves any right)' : '';
      fail(`rule "${key}" must be a non-empty string${why}`);
    }
  }
}
