export type { AuditAction, AuditEntry, AuditPage, AuditQuery } from './audit/audit-entry.interface.js';
export { AuditService } from './audit/audit-trail.store.js';
export { EntityCache } from './cache/entity-cache.store.js';
export type { EntityCacheMetrics, EntityCacheOptions } from './cache/entity-cache-options.interface.js';
export { Audited } from './decorators/audited.decorator.js';
export { Cached } from './decorators/cached.decorator.js';
export { Composite } from './decorators/composite.decorator.js';
export { Entity } from './decorators/entity.decorator.js';
export { Field } from './decorators/field.decorator.js';
export { Historize } from './decorators/historize.decorator.js';
export { Index } from './decorators/index.decorator.js';
export { Permission } from './decorators/permission.decorator.js';
export { EntitiesHealthIndicator } from './health/entities-health.indicator.js';
export type { EntitiesHealthDetails, EntitiesHealthOptions, EntitiesHealthResult } from './health/health-options.interface.js';
export type {
  CachedOptions,
  CompositeOptions,
  EntityOptions,
  EntityPermissionRules,
  FieldOptions,
  FieldPermissionRules,
  FieldType,
  HistoryPolicy,
  IndexOptions,
} from './metadata/decorator-options.interface.js';
export type { EntityDefinition, FieldDefinition, IndexDefinition } from './metadata/entity-definition.interface.js';
export { EntityMetadataException } from './metadata/entity-metadata.exception.js';
export { EntityErrorsInterceptor } from './http/entity-errors.interceptor.js';
export { EntityRequestGuard } from './http/entity-request.guard.js';
export { RequestContextInterceptor } from './http/request-context.interceptor.js';
export type { EntitiesMetricsOptions, MetricsRegistry } from './metrics/metrics-options.interface.js';
export { EntitiesModule } from './module/entities.module.js';
export type { EntitiesModuleOptions } from './module/entities-module-options.interface.js';
export { getRepositoryToken } from './module/entity-tokens.util.js';
export { InjectEntityRepository } from './module/inject-entity-repository.decorator.js';
export { AccessDeniedException } from './permission/access-denied.exception.js';
export { AclService } from './permission/acl.store.js';
export type { RecordGrant, RecordRight } from './permission/acl.store.js';
export type { Principal } from './permission/principal.interface.js';
export type { FieldCondition, FilterOperator, FindQuery, FindResult } from './query/find-query.interface.js';
export { InvalidQueryException } from './query/invalid-query.exception.js';
export { EntityRepository } from './repository/entity.repository.js';
export type { FindOptions, RepositoryWriteContext } from './repository/entity.repository.js';
export type { EntityInput, EntityRecord, ManagedFields } from './repository/entity-record.interface.js';
export { EntityTransaction } from './repository/entity-transaction.store.js';
export type { TransactionWriteContext } from './repository/entity-transaction.store.js';
export type { PrincipalContext } from './repository/principal-context.interface.js';
export type { EntityEvent, EntityEventType, RequestMeta } from './storage/entity-event.interface.js';
export { DamagedStoreException } from './storage/damaged-store.exception.js';
export { EntityStorage } from './storage/entity-storage.store.js';
export type { FieldHistoryEntry, RecordHistory } from './storage/field-history.store.js';
export { IdempotencyConflictException } from './storage/idempotency-conflict.exception.js';
export { InvalidRecordException } from './storage/invalid-record.exception.js';
export { RecordNotFoundException } from './storage/record-not-found.exception.js';
export type { EventRetention } from './storage/storage-options.interface.js';
export { StorageFailureException } from './storage/storage-failure.exception.js';
export type { VerifyReport } from './storage/store-verifier.util.js';
export { UniqueConstraintException } from './storage/unique-constraint.exception.js';
export type { WriteContext } from './storage/write-context.interface.js';
export { VersionConflictException } from './storage/version-conflict.exception.js';
export { EntitiesLogger } from './tracing/entities-logger.util.js';
export { currentRequestId } from './tracing/request-context.util.js';
