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
