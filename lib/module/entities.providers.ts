import { resolve } from 'node:path';
import { Logger, type Provider } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { EntityCache } from '../cache/entity-cache.service.js';
import { AclService } from '../permission/acl.service.js';
import { EntityAccess } from '../permission/entity-access.service.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { EntityStorage } from '../storage/entity-storage.store.js';
import { LmdbEnvironment } from '../storage/lmdb-environment.store.js';
import { EntitiesTelemetry } from '../telemetry/entities-telemetry.service.js';
import { EntityRepository } from '../repository/entity.repository.js';
import { createStoreParts } from '../wiring/store-parts.factory.js';
import type { StoreParts } from '../wiring/store-parts.interface.js';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { ENTITIES_MODULE_OPTIONS, METRICS_ROUTE } from '../common/entity-tokens.util.js';
import { EntityMetadataException } from '../metadata/entity-metadata.exception.js';
import { pathClash } from '../storage/entity-registry.service.js';
import { getRepositoryToken } from '../metadata/repository-token.util.js';

import { checkMetricsRoute, checkModuleOptions } from './module-options-check.util.js';

const DEFAULT_DATA_PATH = './data';

/** The LMDB environment of one `forRoot`, opened by the storage at module init. */
export const lmdbEnvironmentProvider: Provider = {
  provide: LmdbEnvironment,
  useFactory: (options: EntitiesModuleOptions) => {
    checkModuleOptions(options);
    return new LmdbEnvironment(resolve(options.path ?? DEFAULT_DATA_PATH), options.lmdb);
  },
  inject: [ENTITIES_MODULE_OPTIONS],
};

/** The storage and the services wired into it, built together; each is injectable on its own below. */
const STORE_PARTS = Symbol('STORE_PARTS');

export const storePartsProvider: Provider = {
  provide: STORE_PARTS,
  useFactory: (environment: LmdbEnvironment, options: EntitiesModuleOptions, telemetry: EntitiesTelemetry) =>
    createStoreParts(
      environment,
      {
        idempotencyTtl: options.idempotencyTtl,
        eventRetention: options.eventRetention,
        cursorSecret: options.cursorSecret,
        migrate: options.migrate,
        observer: telemetry,
      },
      options.replication,
    ),
  inject: [LmdbEnvironment, ENTITIES_MODULE_OPTIONS, EntitiesTelemetry],
};

export const auditServiceProvider: Provider = {
  provide: AuditService,
  useFactory: (parts: StoreParts) => parts.audit,
  inject: [STORE_PARTS],
};

export const aclServiceProvider: Provider = {
  provide: AclService,
  useFactory: (parts: StoreParts) => parts.acl,
  inject: [STORE_PARTS],
};

export const entityAccessProvider: Provider = {
  provide: EntityAccess,
  useFactory: (options: EntitiesModuleOptions, acl: AclService) => new EntityAccess(options, acl),
  inject: [ENTITIES_MODULE_OPTIONS, AclService],
};

/** Metrics, spans and slow-query warnings of one `forRoot`; loads their optional dependencies at start-up. */
export const entitiesTelemetryProvider: Provider = {
  provide: EntitiesTelemetry,
  // Checked here too: whichever of the two Nest builds first fails before metrics are registered.
  useFactory: (options: EntitiesModuleOptions, metricsRoute: string | false) => {
    checkModuleOptions(options);
    checkMetricsRoute(options.metrics, metricsRoute, (message) => new Logger('EntitiesModule').warn(message));
    return EntitiesTelemetry.create(options);
  },
  inject: [ENTITIES_MODULE_OPTIONS, METRICS_ROUTE],
};

/** The storage of one `forRoot`, with the audit trail following `@Audited` entities and the grants beside it. */
export const entityStorageProvider: Provider = {
  provide: EntityStorage,
  useFactory: (parts: StoreParts) => parts.storage,
  inject: [STORE_PARTS],
};

export const entityCacheProvider: Provider = {
  provide: EntityCache,
  useFactory: (storage: EntityStorage, options: EntitiesModuleOptions) => new EntityCache(storage, options.cache),
  inject: [EntityStorage, ENTITIES_MODULE_OPTIONS],
};

/** One `EntityRepository` per entity (timed and traced), registering its definition with the storage. */
export function createRepositoryProviders(definitions: readonly EntityDefinition[]): Provider[] {
  return definitions.map((definition) => ({
    provide: getRepositoryToken(definition.target),
    useFactory: (storage: EntityStorage, options: EntitiesModuleOptions, access: EntityAccess, telemetry: EntitiesTelemetry, metricsRoute: string | false) => {
      try {
        refuseMetricsRoute(definition, metricsRoute);
        storage.register(definition);
      } catch (error) {
        // No lifecycle hook runs after a provider fails: the metrics this start registered would fail a retry in this process.
        telemetry.close();
        throw error;
      }
      return new EntityRepository(definition, storage, options.maxBatchSize, access, telemetry);
    },
    inject: [EntityStorage, ENTITIES_MODULE_OPTIONS, EntityAccess, EntitiesTelemetry, METRICS_ROUTE],
  }));
}

/** The metrics route would answer the entity's list (or hide it): its path is the app's to choose, not to share. */
function refuseMetricsRoute(definition: EntityDefinition, metricsRoute: string | false): void {
  if (metricsRoute === false) return;
  const clash = pathClash(definition.path, metricsRoute.replace(/^\/+/, ''));
  if (clash)
    throw new EntityMetadataException(definition.target.name, undefined, `route path "/${definition.path}" ${clash} the metrics route ${metricsRoute}`);
}
