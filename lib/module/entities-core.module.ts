import { Global, Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EntityStorage } from '../storage/entity-storage.store.js';
import { ENTITIES_MODULE_OPTIONS, EntitiesCoreModuleBase } from './entities.module-definition.js';
import {
  aclServiceProvider,
  auditServiceProvider,
  entityAccessProvider,
  entityCacheProvider,
  entityStorageProvider,
  lmdbEnvironmentProvider,
} from './entities.providers.js';
import { AclService } from '../permission/acl.store.js';
import { EntityCache } from '../cache/entity-cache.store.js';
import { EntityAccess } from '../permission/entity-access.store.js';
import { AuditService } from '../audit/audit-trail.store.js';

/**
 * Owns the LMDB environment of one `forRoot`: global so every `forFeature` finds it,
 * opened once at init (after all repositories registered their entities, so the
 * environment is sized for them) and closed on application shutdown so the same
 * directory can be opened again.
 */
@Global()
@Module({
  providers: [
    lmdbEnvironmentProvider,
    auditServiceProvider,
    aclServiceProvider,
    entityAccessProvider,
    entityStorageProvider,
    entityCacheProvider,
  ],
  exports: [EntityStorage, AuditService, AclService, EntityAccess, EntityCache, ENTITIES_MODULE_OPTIONS],
})
export class EntitiesCoreModule extends EntitiesCoreModuleBase implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(EntityStorage) private readonly storage: EntityStorage) {
    super();
  }

  async onModuleInit(): Promise<void> {
    await this.storage.open();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.storage.close();
  }
}
