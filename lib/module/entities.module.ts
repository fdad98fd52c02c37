import { Module, type DynamicModule, type Type } from '@nestjs/common';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { createEntityController } from '../http/entity-controller.factory.js';
import { createReferringListController } from '../http/referring-list-controller.factory.js';
import { createEntityDtos, type EntityDtos } from '../http/entity-dto.factory.js';
import { createGrantsController } from '../http/grants-controller.factory.js';
import { entityReflector } from '../metadata/metadata.reflector.js';
import { createEntityDefinition } from '../metadata/entity-definition.factory.js';
import type { EntityDefinition, ReferenceDefinition } from '../metadata/entity-definition.interface.js';
import { createMetricsController, DEFAULT_METRICS_PATH } from '../http/metrics-controller.factory.js';
import { EntitiesCoreModule } from './entities-core.module.js';
import type { EntitiesModuleAsyncOptions } from './entities-module-async-options.interface.js';
import { createRepositoryProviders } from './entities.providers.js';
import { getRepositoryToken } from '../metadata/repository-token.util.js';
import { referenceTarget } from '../metadata/reference-target.util.js';

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
      imports: [EntitiesCoreModule.forRoot({ ...options, metricsRoute: metricsPath })],
      controllers: metricsPath === false ? [] : [createMetricsController(metricsPath)],
    };
  }

  /** Like `forRoot`, with options from a factory (e.g. read from `ConfigService`). */
  static forRootAsync({ metricsPath, ...options }: EntitiesModuleAsyncOptions): DynamicModule {
    return {
      module: EntitiesModule,
      imports: [EntitiesCoreModule.forRootAsync({ ...options, metricsRoute: metricsPath ?? false })],
      controllers: metricsPath === undefined ? [] : [createMetricsController(metricsPath)],
    };
  }

  /**
   * Reads each class's decorators now, so wrong metadata fails at start-up naming the
   * class and field, and builds the controllers here because Nest registers routes
   * before any `onModuleInit`.
   */
  static forFeature(entities: readonly Type<object>[]): DynamicModule {
    const definitions = entities.map(definitionOf);
    return {
      module: EntitiesModule,
      controllers: entities.flatMap(controllersOf),
      providers: createRepositoryProviders(definitions),
      exports: entities.map((entity) => getRepositoryToken(entity)),
    };
  }
}

/**
 * An entity class's definition and DTOs, built once per class: class-validator keeps every DTO
 * class it is shown for as long as the process runs, and a process may make many apps of the
 * same classes (tests, hot reload). A class's decorators do not change once it is declared. The
 * controllers are built per call: each app documents them after its own options (replication).
 */
const built = new WeakMap<Type<object>, { definition: EntityDefinition; dtos?: EntityDtos }>();

function partsOf(entity: Type<object>): { definition: EntityDefinition; dtos?: EntityDtos } {
  let parts = built.get(entity);
  if (!parts) {
    parts = { definition: createEntityDefinition(entity) };
    built.set(entity, parts);
  }
  return parts;
}

function definitionOf(entity: Type<object>): EntityDefinition {
  return partsOf(entity).definition;
}

function controllersOf(entity: Type<object>): Type<unknown>[] {
  const parts = partsOf(entity);
  const { definition } = parts;
  const dtos = (parts.dtos ??= createEntityDtos(definition));
  return [
    createEntityController(definition, dtos),
    ...(definition.permissions ? [createGrantsController(definition)] : []),
    ...nestedRoutesOf(definition).map(({ reference, target }) => createReferringListController(definition, reference, target, dtos)),
  ];
}

/**
 * The references of an entity that get a nested route: one per entity referred to. An entity
 * referring to another through several fields gets none for it (which field would the route
 * follow?); filtering `GET /P?field=<id>` does the same.
 */
function nestedRoutesOf(definition: EntityDefinition): Array<{ reference: ReferenceDefinition; target: EntityDefinition }> {
  const byTarget = new Map<Function, ReferenceDefinition[]>();
  for (const reference of definition.references) {
    const target = referenceTarget(definition, reference) as Function;
    byTarget.set(target, [...(byTarget.get(target) ?? []), reference]);
  }
  return (
    [...byTarget.entries()]
      // A target that is no entity class here fails start-up when the store opens, naming the field.
      .filter(([target, references]) => typeof target === 'function' && entityReflector.get(target as Type<object>) !== undefined && references.length === 1)
      .map(([target, [reference]]) => ({ reference: reference!, target: definitionOf(target as Type<object>) }))
  );
}
