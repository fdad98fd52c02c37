import type { Type } from '@nestjs/common';
import type {
  CachedOptions,
  EntityMigration,
  EntityPermissionRules,
  FieldPermissionRules,
  FieldType,
  HistoryPolicy,
  ReferenceDeleteRule,
} from './decorator-options.interface.js';

/** Constraints found in class-validator metadata, surfaced in OpenAPI. */
export interface FieldConstraints {
  enum?: readonly unknown[];
  /** `@IsInt()`: a whole number (OpenAPI `integer`). */
  integer?: boolean;
  /** `@Matches(re)` without flags, as OpenAPI's ECMA `pattern`; a pattern with flags has no such form. */
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
}

export interface FieldDefinition {
  readonly name: string;
  readonly type: FieldType;
  readonly required: boolean;
  readonly default?: unknown;
  readonly immutable: boolean;
  readonly hidden: boolean;
  readonly description?: string;
  readonly example?: unknown;
  readonly history: HistoryPolicy;
  readonly permission?: Readonly<FieldPermissionRules>;
  readonly constraints: Readonly<FieldConstraints>;
}

/** An ordered index: keys are `[...values of fields, id]`. `@Index` is a one-field index. */
export interface IndexDefinition {
  readonly name: string;
  readonly fields: readonly string[];
  readonly unique: boolean;
}

/** A `@Reference` field: it holds the id of a record of `target`'s entity. */
export interface ReferenceDefinition {
  readonly field: string;
  /** The entity class referred to, resolved when first needed so entities may refer to each other. */
  readonly target: () => Type<object>;
  readonly onDelete: ReferenceDeleteRule;
  /** Its name in `include` and in filters through it; absent when it has none (see `ReferenceOptions.as`). */
  readonly as?: string;
}

/** Everything downstream needs to know about an entity, read once and frozen. */
export interface EntityDefinition<T extends object = object> {
  readonly target: Type<T>;
  readonly name: string;
  /** Route path without leading or trailing slash. */
  readonly path: string;
  readonly fields: readonly FieldDefinition[];
  readonly fieldsByName: ReadonlyMap<string, FieldDefinition>;
  readonly indexes: readonly IndexDefinition[];
  /** The `@Reference` fields; each one is the first field of one of `indexes`. */
  readonly references: readonly ReferenceDefinition[];
  /** The class-level `@Permission` rules as written: a missing action needs its default, `null` is open. */
  readonly permissions?: Readonly<EntityPermissionRules>;
  readonly audited: boolean;
  readonly cached?: Readonly<CachedOptions>;
  /** Deletes keep the record, restorable, until it is purged (`@Entity({ softDelete: true })`). */
  readonly softDelete: boolean;
  /** The schema version of the records this class describes: the last migration's, 1 without any. */
  readonly version: number;
  /** `@Entity({ migrations })`, checked: versions 2, 3, ... in order. */
  readonly migrations: readonly EntityMigration[];
}
