import { resolve } from 'node:path';
import type { Provider } from '@nestjs/common';
import { AuditService } from '../audit/audit-trail.store.js';
import { EntityCache } from '../cache/entity-cache.store.js';
import { AclService } from '../permission/acl.store.js';
import { EntityAccess } from '../permission/entity-access.store.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { EntityRepository } from '../repository/entity.repository.js';
import { EntityStorage } from '../storage/entity-storage.store.js';
import { LmdbEnvironment } from '../storage/lmdb-environment.store.js';
import { ENTITIES_MODULE_OPTIONS } from './entities.module-definition.js';
import type { EntitiesModuleOptions } from './entities-module-options.interface.js';
import { getRepositoryToken } from './entity-tokens.util.js';

export const DEFAULT_DATA_PATH = './data';

/** The LMDB environment of one `forRoot`, opened by the storage at module init. */
export const lmdbEnvironmentProvider: Provider = {
  provide: LmdbEnvironment,
  useFactory: (options: EntitiesModuleOptions) => new LmdbEnvironment(resolve(options.path ?? DEFAULT_DATA_PATH), options.lmdb),
  inject: [ENTITIES_MODULE_OPTIONS],
};

export const auditServiceProvider: Provider = {
  provide: AuditService,
  useFactory: (environment: LmdbEnvironment) => new AuditService(environment),
  inject: [LmdbEnvironment],
};

export const aclServiceProvider: Provider = {
  provide: AclService,
  useFactory: (environment: LmdbEnvironment) => new AclService(environment),
  inject: [LmdbEnvironment],
};

export const entityAccessProvider: Provider = {
  provide: EntityAccess,
  useFactory: (options: EntitiesModuleOptions, acl: AclService) => new EntityAccess(options, acl),
  inject: [ENTITIES_MODULE_OPTIONS, AclService],
};

/** The storage of one `forRoot`, with the audit trail following `@Audited` entities. */
export const entityStorageProvider: Provider = {
  provide: EntityStorage,
  useFactory: (environment: LmdbEnvironment, options: EntitiesModuleOptions, audit: AuditService, acl: AclService) =>
    new EntityStorage(
      environment,
      { idempotencyTtl: options.idempotencyTtl, eventRetention: options.eventRetention },
      [audit],
      [acl],
    ),
  inject: [LmdbEnvironment, ENTITIES_MODULE_OPTIONS, AuditService, AclService],
};

export const entityCacheProvider: Provider = {
  provide: EntityCache,
  useFactory: (storage: EntityStorage, options: EntitiesModuleOptions) => new EntityCache(storage, options.cache),
  inject: [EntityStorage, ENTITIES_MODULE_OPTIONS],
};

/** One `EntityRepository` per entity, registering its definition with the storage. */
export function createRepositoryProviders(definitions: readonly EntityDefinition[]): Provider[] {
  return definitions.map((definition) => ({
    provide: getRepositoryToken(definition.target),
    useFactory: (storage: EntityStorage, options: EntitiesModuleOptions, access: EntityAccess) => {
      storage.register(definition);
      return new EntityRepository(definition, storage, options.maxBatchSize, access);
    },
    inject: [EntityStorage, ENTITIES_MODULE_OPTIONS, EntityAccess],
  }));
}
