import { resolve } from 'node:path';
import type { Provider } from '@nestjs/common';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { EntityRepository } from '../repository/entity.repository.js';
import { EntityStorage } from '../storage/entity-storage.store.js';
import { LmdbEnvironment } from '../storage/lmdb-environment.store.js';
import { ENTITIES_MODULE_OPTIONS } from './entities.module-definition.js';
import type { EntitiesModuleOptions } from './entities-module-options.interface.js';
import { getRepositoryToken } from './entity-tokens.util.js';

export const DEFAULT_DATA_PATH = './data';

/** The storage of one `forRoot`: one LMDB environment, opened at module init. */
export const entityStorageProvider: Provider = {
  provide: EntityStorage,
  useFactory: (options: EntitiesModuleOptions) =>
    new EntityStorage(new LmdbEnvironment(resolve(options.path ?? DEFAULT_DATA_PATH), options.lmdb)),
  inject: [ENTITIES_MODULE_OPTIONS],
};

/** One `EntityRepository` per entity, registering its definition with the storage. */
export function createRepositoryProviders(definitions: readonly EntityDefinition[]): Provider[] {
  return definitions.map((definition) => ({
    provide: getRepositoryToken(definition.target),
    useFactory: (storage: EntityStorage) => {
      storage.register(definition);
      return new EntityRepository(definition, storage);
    },
    inject: [EntityStorage],
  }));
}
