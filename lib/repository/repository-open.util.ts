import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import { StorageFailureException } from '../storage/storage-failure.exception.js';

/**
 * Fails unless the store of a repository of `definition` is open, and inside a transaction
 * callback (which must use the transaction it is given).
 * The store opens in the application's init; Nest builds and hands out repositories
 * before that, and lmdb's own error for a closed store says nothing of the cause.
 */
export function checkRepositoryOpen(storage: EntityStorage, definition: EntityDefinition): void {
  if (storage.environment.isOpen) return storage.environment.refuseInsideWrite();
  throw new StorageFailureException(
    `EntityRepository<${definition.name}> used while its store is not open: before the application initialised ` +
      "(call app.init() or app.listen() first; from a lifecycle hook, use onApplicationBootstrap, which runs after every module's onModuleInit) or after it closed",
    false,
  );
}
