import type { FIELD_TYPES } from '../common/metadata.constants.js';
/** Scalar types a field may have; `Date` fields are stored and returned as ISO-8601 strings. */
export type FieldType = (typeof FIELD_TYPES)[number];

/** Options of `@Field()`. */
export interface FieldOptions {
  /** The field must be present on create and replace. Default `true`. */
  required?: boolean;
  /** Value stored when a create or replace leaves the field out. */
  default?: unknown;
  /** Set on create and never changed after; an update that changes it is rejected (400). Default `false`. */
  immutable?: boolean;
  /** Stored, never returned by the API. Default `false`. */
  hidden?: boolean;
  /** Shown in the OpenAPI document. */
  description?: string;
  /** Shown in the OpenAPI document and Swagger UI's "try it out" body. */
  example?: unknown;
  /**
   * The field's type when TypeScript's `design:type` cannot tell it (unions of
   * different types, `unknown`). Default: taken from the property's type.
   */
  type?: FieldType;
}

/** Options of `@Index()`. */
export interface IndexOptions {
  /** Reject a second record with the same value (409). Default `false`. */
  unique?: boolean;
  /** Index name; default the field name. */
  name?: string;
}

/** What deleting a record does to the records that refer to it through a `@Reference`. */
export type ReferenceDeleteRule = 'restrict' | 'cascade' | 'setNull';

/** Options of `@Reference()`. */
export interface ReferenceOptions {
  /**
   * What deleting the record referred to does to the records referring to it, in the same
   * transaction: `'restrict'` (default) refuses the delete with 409 while any refers to it,
   * `'cascade'` deletes them too (soft-deletes them on a `softDelete` entity), `'setNull'`
   * removes the field from them (it must be `@Field({ required: false })`).
   */
  onDelete?: ReferenceDeleteRule;
  /**
   * The name the record referred to takes in a read with `include` (`?include=permit`), and
   * in filters through the reference (`?permit.status=open`). Default: the field without its
   * `Id` or `_id` suffix (`permitId` → `permit`); a field without one needs `as` for either.
   */
  as?: string;
}

/** Options of `@Composite()`. */
export interface CompositeOptions {
  /** Index name; default the field names joined by `_`. */
  name?: string;
  /** Reject a second record with the same values of all fields (409). Default `false`. */
  unique?: boolean;
}

/** `@Entity()` options. */
export interface EntityOptions {
  /** Storage name; also the route path unless `path` is given. Letters, digits, `-` and `_`. */
  name: string;
  /** Route path without leading slash, e.g. `permits` or `v1/permits`. Default `name`. */
  path?: string;
  /**
   * `true`: a delete moves the record to the entity's deleted records (gone from reads and
   * lists, its unique values freed) from where `POST /P/:id/restore` brings it back and
   * `DELETE /P/:id?purge=true` removes it for good. Default `false`: a delete is final.
   */
  softDelete?: boolean;
  /**
   * The steps that brought the entity's stored records to the class as it is now, oldest
   * first, numbered 2, 3, ... (an entity without migrations is at version 1). At start-up, or
   * by the `migrate` command, the records stored at an older version go through the steps
   * they have not had, each record changed by one update event; a store whose records are at
   * a newer version than the class refuses to open.
   */
  migrations?: readonly EntityMigration[];
}

/**
 * One step of an entity's schema, from `version - 1` to `version`. Its parts apply in this
 * order: `rename`, `remove`, `fill`, `update`. What the steps leave must be a valid record of
 * the entity as declared now: a step that leaves one invalid stops the migration, naming the
 * record, before anything of the batch is stored.
 */
export interface EntityMigration {
  /** The entity version the step brings records to: 2 for the first step, then one more each. */
  version: number;
  /** Said in the log and by the `migrate` command. */
  description?: string;
  /** Fields renamed, `{ oldName: 'newName' }`: the value moves, and so does the field's history. */
  rename?: Readonly<Record<string, string>>;
  /** Fields removed: their values are cleared from every record. */
  remove?: readonly string[];
  /** Values given to records that lack the field (a new required field, a default set on records stored without one). */
  fill?: Readonly<Record<string, unknown>>;
  /**
   * Any other change: given the record as the parts before left it (without `id`, `version`,
   * `createdAt`, `updatedAt`), returns the fields to set (`null` clears one), or nothing to
   * leave it as it is. It must decide from the record alone: the same record, the same result.
   */
  update?: (record: Readonly<Record<string, unknown>>) => Record<string, unknown> | undefined | void;
}

/** How much history of a field's values is kept. */
export type HistoryPolicy = 'full' | 'never' | { versions: number };

/**
 * Entity-level permission strings per action (`@Permission` on a class). An action left out
 * needs `'<entity name>:<action>'`, so forgetting a rule never opens an action; `null` opens
 * it to everyone, anonymous included.
 */
export interface EntityPermissionRules {
  /** Default `'<entity name>:read'`. */
  read?: string | null;
  /** Default `'<entity name>:create'`. */
  create?: string | null;
  /** Default `'<entity name>:update'`. */
  update?: string | null;
  /** Default `'<entity name>:delete'`. */
  delete?: string | null;
  /** Default: the `read` rule, or its default. */
  history?: string | null;
  /** Default: the `update` rule, or its default. */
  audit?: string | null;
  /** Managing record grants. Default `'<entity name>:admin'`; never `null`, which would let anyone grant themselves any right. */
  admin?: string;
  /** A field that holds the creator's principal id; owners may read, update and delete their records. */
  owner?: string;
}

/** Field-level permission strings (`@Permission` on a property). */
export interface FieldPermissionRules {
  read?: string;
  write?: string;
}

/** `@Cached()` options. */
export interface CachedOptions {
  /** Time to live of cached reads, in milliseconds. Default: the module's cache default. */
  ttl?: number;
}
