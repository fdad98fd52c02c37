import { Global, Inject, Module, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { EntitiesMaintenance } from '../storage/entities-maintenance.service.js';
import { EntityStorage } from '../storage/entity-storage.store.js';
import { ENTITIES_MODULE_OPTIONS } from '../common/entity-tokens.util.js';
import { EntitiesCoreModuleBase } from './entities.module-definition.js';
import {
  aclServiceProvider,
  auditServiceProvider,
  entitiesTelemetryProvider,
  entityAccessProvider,
  entityCacheProvider,
  entityStorageProvider,
  lmdbEnvironmentProvider,
  storePartsProvider,
} from './entities.providers.js';
import { AclService } from '../permission/acl.service.js';
import { EntityCache } from '../cache/entity-cache.service.js';
import { EntityAccess } from '../permission/entity-access.service.js';
import { AuditService } from '../audit/audit.service.js';
import { EntitiesHealthIndicator } from '../health/entities-health.indicator.js';
import { EntitiesTelemetry } from '../telemetry/entities-telemetry.service.js';

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
    storePartsProvider,
    auditServiceProvider,
    aclServiceProvider,
    entityAccessProvider,
    entityStorageProvider,
    entityCacheProvider,
    entitiesTelemetryProvider,
    EntitiesHealthIndicator,
    EntitiesMaintenance,
  ],
  exports: [
    EntityStorage,
    EntitiesMaintenance,
    AuditService,
    AclService,
    EntityAccess,
    EntityCache,
    EntitiesTelemetry,
    EntitiesHealthIndicator,
    ENTITIES_MODULE_OPTIONS,
  ],
})
export class EntitiesCoreModule extends EntitiesCoreModuleBase implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(EntityStorage) private readonly storage: EntityStorage,
    @Inject(EntityCache) private readonly cache: EntityCache,
    @Inject(EntitiesTelemetry) private readonly telemetry: EntitiesTelemetry,
    @Inject(ModulesContainer) private readonly modules: ModulesContainer,
  ) {
    super();
  }

  async onModuleInit(): Promise<void> {
    // Global, so one forRoot's services answer every forFeature: a second would open its store for nothing.
    const roots = [...this.modules.values()].filter((module) => module.metatype === EntitiesCoreModule).length;
    if (roots > 1) {
      throw new Error(`EntitiesModule.forRoot() is imported ${roots} times in this app; import it once (its entities would all use one store)`);
    }
    // Registered here rather than when Nest builds the provider: a failed build runs no hook to take them out.
    this.telemetry.open();
    try {
      await this.storage.open();
    } catch (error) {
      // A start that fails is not always followed by app.close() (abortOnError: false): it must
      // not leave this process listed as the store's writer, which the command line respects,
      // nor its metrics registered, which would fail a retry in this process on their names.
      this.telemetry.close();
      await this.storage.close();
      throw error;
    }
    this.telemetry.metrics?.track(this.storage, this.cache);
  }

  /** Open change streams would hold the HTTP server's close, which comes before onApplicationShutdown. */
  beforeApplicationShutdown(): void {
    this.storage.subscriptions.end();
  }

  async onApplicationShutdown(): Promise<void> {
    this.telemetry.close();
    await this.storage.close();
  }
}
