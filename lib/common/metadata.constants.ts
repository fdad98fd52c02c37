/**
 * Reflect-metadata keys owned by this package. Prefixed so they never collide with
 * Nest's, Swagger's or class-validator's own keys on the same classes.
 */
export const METADATA_KEYS = {
  entity: 'nestjs-declarative-entities:entity',
  properties: 'nestjs-declarative-entities:properties',
  composites: 'nestjs-declarative-entities:composites',
  historize: 'nestjs-declarative-entities:historize',
  permission: 'nestjs-declarative-entities:permission',
  audited: 'nestjs-declarative-entities:audited',
  cached: 'nestjs-declarative-entities:cached',
  repositoryToken: 'nestjs-declarative-entities:repository-token',
  /** On generated controllers, which time their own routes: `EntityRequestGuard` leaves their metrics to them. */
  definition: 'nestjs-declarative-entities:definition',
} as const;

/** What an entity or index name may look like: it is part of lmdb database names and keys. */
export const STORAGE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** What a field name may look like: a JavaScript identifier, so it works as a property, a DTO member and a query parameter. */
export const FIELD_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Keys that reach an object's prototype when assigned: never a field name, nowhere in a request body. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Fields every stored record carries, managed by the package. */
export const RESERVED_FIELDS = ['id', 'version', 'createdAt', 'updatedAt'] as const;

/** When a record of a `softDelete` entity was deleted: set on deleted records only. */
export const DELETED_AT = 'deletedAt';

export type ReservedField = (typeof RESERVED_FIELDS)[number];

/** The types a field may have; a catalog read back from a store is checked against the same list. */
export const FIELD_TYPES = ['string', 'number', 'boolean', 'date'] as const;
