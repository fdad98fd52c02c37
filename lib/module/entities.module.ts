import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { createEntityController } from '../http/entity-controller.factory.js';
import { createEntityDtos } from '../http/entity-dto.factory.js';
import { createGrantsController } from '../http/grants-controller.factory.js';
import { createEntityDefinition } from '../metadata/entity-definition.factory.js';
import { EntitiesCoreModule } from './entities-core.module.js';
import { ENTITIES_ASYNC_OPTIONS_TYPE, ENTITIES_OPTIONS_TYPE } from './entities.module-definition.js';
import { createRepositoryProviders } from './entities.providers.js';
import { getRepositoryToken } from './entity-tokens.util.js';

/**
 * The package's module. `forRoot` (or `forRootAsync`) once, in the root module, opens the
 * store; `forFeature([...entities])` adds a REST controller and an injectable
 * `EntityRepository` per entity.
 */
@Module({})
export class EntitiesModule {
  static forRoot(options: typeof ENTITIES_OPTIONS_TYPE = {}): DynamicModule {
    return { module: EntitiesModule, imports: [EntitiesCoreModule.forRoot(options)] };
  }

  static forRootAsync(options: typeof ENTITIES_ASYNC_OPTIONS_TYPE): DynamicModule {
    return { module: EntitiesModule, imports: [EntitiesCoreModule.forRootAsync(options)] };
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
