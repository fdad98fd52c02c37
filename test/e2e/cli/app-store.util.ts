import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import type { AuditService } from '../../../lib/audit/audit.service.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import type { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { createStoreParts } from '../../../lib/wiring/store-parts.factory.js';

/**
 * Opens the store at `path` as an app with `entity` would (recording its catalog, migrating
 * at start-up), runs `fn`, and closes it however `fn` ends.
 */
export async function asApp<R>(path: string, entity: Type<object>, fn: (storage: EntityStorage, audit: AuditService) => Promise<R>): Promise<R> {
  const environment = new LmdbEnvironment(path);
  const { storage, audit } = createStoreParts(environment);
  storage.register(createEntityDefinition(entity));
  await storage.open();
  try {
    return await fn(storage, audit);
  } finally {
    await storage.close();
  }
}
