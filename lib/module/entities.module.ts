import { Module, type DynamicModule, type Type } from '@nestjs/common';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { createEntityController } from '../http/entity-controller.factory.js';
import { createEntityDtos } from '../http/entity-dto.factory.js';
import { createGrantsController } from '../http/grants-controller.factory.js';
import { createEntityDefinition } from '../metadata/entity-definition.factory.js';
import { createMetricsController, DEFAULT_METRICS_PATH } from '../http/metrics-controller.factory.js';
import { EntitiesCoreModule } from './entities-core.module.js';
import type { EntitiesModuleAsyncOptions } from './entities-module-async-options.interface.js';
import { createRepositoryProviders } from './entities.providers.js';
import { getRepositoryToken } from '../common/entity-tokens.util.js';

/**
 * The package's module. `forRoot` (or `forRootAsync`) once, in the root module, opens the
 * store; `forFeature([...entities])` adds a REST controller and an injectable
 * `EntityRepository` per entity.
 */
@Module({})
export class EntitiesModule {
  static forRoot(options: EntitiesModuleOptions = {}): DynamicModule {
    const metrics = options.metrics;
    const metricsPath = metrics?.enabled ? (metrics.path ?? DEFAULT_METRICS_PATH) : false;
    return {
      module: EntitiesModule,
      imports: [EntitiesCoreModule.forRoot(options)],
      controllers: metricsPath === false ? [] : [createMetricsController(metricsPath)],
    };
  }

  /** Like `forRoot`, with options from a factory (e.g. read from `ConfigService`). */
  static forRootAsync({ metricsPath, ...options }: EntitiesModuleAsyncOptions): DynamicModule {
    return {
      module: EntitiesModule,
      imports: [EntitiesCoreModule.forRootAsync(options)],
      controllers: metricsPath === undefined ? [] : [createMetricsController(metricsPath)],
    };
  }

  /**
   * Reads each class's decorators now, so wrong metadata fails at start-up naming the
   * class and field, and builds the controllers here because Nest registers routes
   * before any `onModuleInit`.
   */
  static forFeature(entities: readonly Type<object>[]): DynamicModule {
    const definitions = entities.map((entity) => createEntityDefinition(entity));
    return {
      module: EntitiesModule,
      controllers: definitions.flatMap((definition) => [
        createEntityController(definition, createEntityDtos(definition)),
        ...(definition.permissions ? [createGrantsController(definition)] : []),
      ]),
      providers: createRepositoryProviders(definitions),
      exports: entities.map((entity) => getRepositoryToken(entity)),
    };
  }
}
