import 'reflect-metadata';
import { AclService, AuditService } from '../../lib/index.js';
import { EntityStorage } from '../../lib/storage/entity-storage.store.js';
import { createEntityDefinition } from '../../lib/metadata/entity-definition.factory.js';
import { LmdbEnvironment } from '../../lib/storage/lmdb-environment.store.js';
import { Inspection } from '../../sample/inspection.entity.js';
import { Permit } from '../../sample/permit.entity.js';

/**
 * Opens the sample's data directory directly, as the app wires it (audit trail, grants), for
 * checks after the sample's processes have stopped; closes it when `fn` is done.
 */
export async function withSampleStore<R>(dataPath: string, fn: (storage: EntityStorage) => R | Promise<R>): Promise<R> {
  const environment = new LmdbEnvironment(dataPath);
  const storage = new EntityStorage(environment, {}, [new AuditService(environment)], [new AclService(environment)]);
  storage.register(createEntityDefinition(Permit));
  storage.register(createEntityDefinition(Inspection));
  await storage.open();
  try {
    return await fn(storage);
  } finally {
    await storage.close();
  }
}
