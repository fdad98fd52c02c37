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

/** Data fields of an entity class (its methods left out). */
export type EntityData<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]: T[K] };

/**
 * A stored record of entity `T`: its fields (dates as ISO strings) plus the managed ones. An
 * optional date (`Date | undefined`) is a string or undefined: Date is swapped within the union.
 */
export type EntityRecord<T> = {
  [K in keyof EntityData<T>]: Exclude<T[K], Date> | ([Extract<T[K], Date>] extends [never] ? never : string);
} & ManagedFields;

/** What a create or replace takes: the entity's fields; dates as `Date` or ISO string. */
export type EntityInput<T> = { [K in keyof EntityData<T>]: T[K] | ([Extract<T[K], Date>] extends [never] ? never : string) };

/** What an update takes: any of the entity's fields; `null` clears an optional one. */
export type EntityPatch<T> = { [K in keyof EntityInput<T>]?: EntityInput<T>[K] | (undefined extends T[K] ? null : never) };
