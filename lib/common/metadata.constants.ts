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
  /** On generated controllers and handlers, read by the access guard through Nest's `Reflector`. */
  definition: 'nestjs-declarative-entities:definition',
  action: 'nestjs-declarative-entities:action',
} as const;

/** What an entity or index name may look like: it is part of lmdb database names and keys. */
export const STORAGE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Fields every stored record carries, managed by the package. */
export const RESERVED_FIELDS = ['id', 'version', 'createdAt', 'updatedAt'] as const;

export type ReservedField = (typeof RESERVED_FIELDS)[number];
