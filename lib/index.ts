// The public API, and all of it: everything else under lib/ is internal and may change in any release.
// README's "Public API" section lists these exports; test/unit/tooling/public-api.spec.ts keeps the two in step.

// Declaring entities
export { Audited } from './decorators/audited.decorator.js';
export { Cached } from './decorators/cached.decorator.js';
export { Composite } from './decorators/composite.decorator.js';
export { Entity } from './decorators/entity.decorator.js';
export { Field } from './decorators/field.decorator.js';
export { Historize } from './decorators/historize.decorator.js';
export { Index } from './decorators/index.decorator.js';
export { Permission } from './decorators/permission.decorator.js';
export { Reference } from './decorators/reference.decorator.js';
export type {
  CachedOptions,
  CompositeOptions,
  EntityMigration,
  EntityOptions,
  EntityPermissionRules,
  FieldOptions,
  FieldPermissionRules,
  FieldType,
  HistoryPolicy,
  IndexOptions,
  ReferenceDeleteRule,
  ReferenceOptions,
} from './metadata/decorator-options.interface.js';
export type { EntityDefinition, FieldConstraints, FieldDefinition, IndexDefinition, ReferenceDefinition } from './metadata/entity-definition.interface.js';
export { FIELD_TYPES } from './common/metadata.constants.js';

// The module and its options
export { EntitiesModule } from './module/entities.module.js';
export type { EntitiesModuleAsyncOptions } from './module/entities-module-async-options.interface.js';
export { InjectEntityRepository } from './module/inject-entity-repository.decorator.js';
export { ENTITIES_MODULE_OPTIONS } from './common/entity-tokens.util.js';
export { getRepositoryToken } from './metadata/repository-token.util.js';
export type { EntitiesModuleOptions } from './common/entities-module-options.interface.js';
export type { ReplicationOptions } from './common/replication-options.interface.js';
export type { EntityCacheMetrics, EntityCacheOptions } from './common/entity-cache-options.interface.js';
export type { EntitiesHealthDetails, EntitiesHealthOptions, EntitiesHealthResult, ReplicationHealth } from './common/health-options.interface.js';
export type { EntitiesMetricsOptions, MetricsRegistry } from './common/metrics-options.interface.js';
export type { EventRetention, LmdbTuning } from './common/storage-options.interface.js';
export type { Principal } from './common/principal.interface.js';

// Reading and writing records
export { EntityRepository } from './repository/entity.repository.js';
export type { EntityChange } from './repository/entity-change.interface.js';
export type { FindOptions, ReadOptions } from './repository/read-options.interface.js';
export type { RecordDiff } from './repository/record-diff.interface.js';
export type { RepositoryWriteContext } from './repository/repository-write-context.interface.js';
export type { SubscribeOptions } from './repository/subscribe-options.interface.js';
export { EntityTransaction } from './repository/entity.transaction.js';
export type { TransactionWriteContext } from './repository/entity.transaction.js';
export type { PrincipalContext } from './repository/principal-context.interface.js';
export type { HistoryOptions } from './repository/history-options.interface.js';
export type { DefaultedFields, EntityData, EntityInput, EntityPatch, EntityRecord, FieldInput, ManagedFields } from './repository/entity-record.interface.js';
export { Defaulted } from './common/defaulted.constants.js';
export type { WriteContext } from './storage/write-context.interface.js';
export { FILTER_OPERATORS } from './common/filter-operators.constants.js';
export { DEFAULT_LIMIT, MAX_LIMIT } from './common/page-limits.constants.js';
export type { DeletedMode, FieldCondition, FilterOperator, FindQuery, FindResult } from './query/find-query.interface.js';
export type { FieldHistoryEntry, HistoryPage, RecordHistory } from './storage/field-history.store.js';
export type { EntityEvent, EntityEventType, RequestMeta } from './storage/entity-event.interface.js';

// Services to inject
export { AuditService } from './audit/audit.service.js';
export type { AuditAction, AuditEntry, AuditPage, AuditQuery } from './audit/audit-entry.interface.js';
export { AclService } from './permission/acl.service.js';
export type { RecordGrant } from './permission/acl.service.js';
export type { RecordRight } from './permission/acl-subjects.util.js';
export { EntityCache } from './cache/entity-cache.service.js';
export { EntitiesHealthIndicator } from './health/entities-health.indicator.js';
export { EntitiesMaintenance } from './storage/entities-maintenance.service.js';
export type { MaintenanceResult } from './storage/maintenance-result.interface.js';
export type { StoreStat } from './storage/store-stat.interface.js';
export type { DatabaseStat } from './storage/environment-stat.interface.js';
export type { VerifyReport } from './storage/store-verifier.util.js';

// Your own controllers, served like the generated ones
export { EntityRequestGuard } from './http/entity-request.guard.js';
export { RequestContextInterceptor } from './http/request-context.interceptor.js';
export { EntityErrorsInterceptor } from './http/entity-errors.interceptor.js';
export { EntitiesLogger } from './common/entities.logger.js';
export { currentRequestId } from './common/request-context.util.js';

// Errors
export { EntitiesException } from './common/entities.exception.js';
export { AccessDeniedException } from './repository/access-denied.exception.js';
export { DamagedStoreException } from './storage/damaged-store.exception.js';
export { UnsupportedStoreFormatException } from './storage/unsupported-store-format.exception.js';
export { MigrationFailedException, MigrationsPendingException, StoreSchemaNewerException } from './storage/schema-migration.exception.js';
export { ReplicationDivergedException } from './storage/replication-diverged.exception.js';
export { ChangeTooLargeException } from './replication/change-too-large.exception.js';
export { EntityMetadataException } from './metadata/entity-metadata.exception.js';
export { IdempotencyConflictException } from './storage/idempotency-conflict.exception.js';
export { InvalidQueryException } from './query/invalid-query.exception.js';
export { InvalidRecordException } from './storage/invalid-record.exception.js';
export { RecordNotFoundException } from './storage/record-not-found.exception.js';
export { PastStateGoneException } from './storage/past-state-gone.exception.js';
export { StorageFailureException } from './storage/storage-failure.exception.js';
export { ReferenceConflictException } from './storage/reference-conflict.exception.js';
export { UniqueConstraintException } from './storage/unique-constraint.exception.js';
export { VersionConflictException } from './storage/version-conflict.exception.js';
export { VersionMatchedException } from './storage/version-matched.exception.js';
