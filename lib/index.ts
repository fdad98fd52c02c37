export type { AuditAction, AuditEntry, AuditPage, AuditQuery } from './audit/audit-entry.interface.js';
export { AuditService } from './audit/audit.service.js';
export { EntityCache } from './cache/entity-cache.service.js';
export type { EntityCacheMetrics, EntityCacheOptions } from './common/entity-cache-options.interface.js';
export { Audited } from './decorators/audited.decorator.js';
export { Cached } from './decorators/cached.decorator.js';
export { Composite } from './decorators/composite.decorator.js';
export { Entity } from './decorators/entity.decorator.js';
export { Field } from './decorators/field.decorator.js';
export { Historize } from './decorators/historize.decorator.js';
export { Index } from './decorators/index.decorator.js';
export { Permission } from './decorators/permission.decorator.js';
export { EntitiesHealthIndicator } from './health/entities-health.indicator.js';
export type { EntitiesHealthDetails, EntitiesHealthOptions, EntitiesHealthResult } from './common/health-options.interface.js';
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
export type { EntitiesMetricsOptions, MetricsRegistry } from './common/metrics-options.interface.js';
export { EntitiesModule } from './module/entities.module.js';
export type { EntitiesModuleOptions } from './common/entities-module-options.interface.js';
export { getRepositoryToken } from './common/entity-tokens.util.js';
export { InjectEntityRepository } from './module/inject-entity-repository.decorator.js';
export { AccessDeniedException } from './repository/access-denied.exception.js';
export { AclService } from './permission/acl.service.js';
export type { RecordGrant, RecordRight } from './permission/acl.service.js';
export type { Principal } from './common/principal.interface.js';
export type { FieldCondition, FilterOperator, FindQuery, FindResult } from './query/find-query.interface.js';
export { InvalidQueryException } from './query/invalid-query.exception.js';
export { EntityRepository } from './repository/entity.repository.js';
export type { FindOptions, RepositoryWriteContext } from './repository/entity.repository.js';
export type { EntityInput, EntityRecord, ManagedFields } from './repository/entity-record.interface.js';
export { EntityTransaction } from './repository/entity.transaction.js';
export type { TransactionWriteContext } from './repository/entity.transaction.js';
export type { PrincipalContext } from './repository/principal-context.interface.js';
export type { EntityEvent, EntityEventType, RequestMeta } from './storage/entity-event.interface.js';
export { DamagedStoreException } from './storage/damaged-store.exception.js';
export { EntityStorage } from './storage/entity-storage.store.js';
export type { FieldHistoryEntry, RecordHistory } from './storage/field-history.store.js';
export { IdempotencyConflictException } from './storage/idempotency-conflict.exception.js';
export { InvalidRecordException } from './storage/invalid-record.exception.js';
export { RecordNotFoundException } from './storage/record-not-found.exception.js';
export type { EventRetention } from './common/storage-options.interface.js';
export { StorageFailureException } from './storage/storage-failure.exception.js';
export type { VerifyReport } from './storage/store-verifier.util.js';
export { UniqueConstraintException } from './storage/unique-constraint.exception.js';
export type { WriteContext } from './storage/write-context.interface.js';
export { VersionConflictException } from './storage/version-conflict.exception.js';
export { EntitiesLogger } from './common/entities.logger.js';
export { currentRequestId } from './common/request-context.util.js';
