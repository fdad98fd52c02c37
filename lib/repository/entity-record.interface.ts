import type { Defaulted } from '../common/defaulted.constants.js';

/** Fields the package manages on every record. */
export interface ManagedFields {
  /** Time-ordered ULID, assigned on create. */
  id: string;
  /** 1 on create, +1 on each change. */
  version: number;
  /** ISO-8601 time of the create. */
  createdAt: string;
  /** ISO-8601 time of the last change. */
  updatedAt: string;
}

/** Data fields of an entity class (its methods and symbol-keyed markers such as `[Defaulted]` left out). */
export type EntityData<T> = { [K in keyof T as K extends symbol ? never : T[K] extends (...args: never[]) => unknown ? never : K]: T[K] };

/** The fields an entity class names under `[Defaulted]`: those a create or replace may leave out. */
export type DefaultedFields<T> = T extends { readonly [Defaulted]?: infer D } ? Extract<D, keyof EntityData<T>> : never;

/** A field's value as a write takes it: a date also as an ISO string. */
export type FieldInput<V> = V | ([Extract<V, Date>] extends [never] ? never : string);

/**
 * A stored record of entity `T`: its fields (dates as ISO strings) plus the managed ones. An
 * optional date (`Date | undefined`) is a string or undefined: Date is swapped within the union.
 */
export type EntityRecord<T> = {
  [K in keyof EntityData<T>]: Exclude<T[K], Date> | ([Extract<T[K], Date>] extends [never] ? never : string);
} & ManagedFields;

/**
 * What a create or replace takes: the entity's fields, those it names under `[Defaulted]`
 * optional; dates as `Date` or ISO string.
 */
export type EntityInput<T> = { [K in keyof EntityData<T> as K extends DefaultedFields<T> ? never : K]: FieldInput<EntityData<T>[K]> } & {
  [K in keyof EntityData<T> as K extends DefaultedFields<T> ? K : never]?: FieldInput<EntityData<T>[K]>;
};

/** What an update takes: any of the entity's fields; `null` clears an optional one. */
export type EntityPatch<T> = { [K in keyof EntityData<T>]?: FieldInput<EntityData<T>[K]> | (undefined extends EntityData<T>[K] ? null : never) };
