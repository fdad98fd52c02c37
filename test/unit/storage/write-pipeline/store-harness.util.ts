import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import { AuditService } from '../../../../lib/audit/audit.service.js';
import { AclService } from '../../../../lib/permission/acl.service.js';
import { createEntityDefinition } from '../../../../lib/metadata/entity-definition.factory.js';
import type { EntityDefinition } from '../../../../lib/metadata/entity-definition.interface.js';
import { EntityRepository } from '../../../../lib/repository/entity.repository.js';
import { EntityStorage } from '../../../../lib/storage/entity-storage.store.js';
import { LmdbEnvironment } from '../../../../lib/storage/lmdb-environment.store.js';
import type { StorageOptions } from '../../../../lib/common/storage-options.interface.js';

/** One opened store, wired as `EntitiesModule` wires it (storage, audit projection, grants), without Nest. */
export interface OpenStore {
  environment: LmdbEnvironment;
  storage: EntityStorage;
  audit: AuditService;
  acl: AclService;
  definitions: EntityDefinition[];
  /** A repository of one of the store's entities. */
  repo<T extends object>(entity: Type<T>): EntityRepository<T>;
  close(): Promise<void>;
}

/** Opens the store in `path` with these entities, exactly as the module's providers build it. */
export async function openStore(path: string, entities: readonly Type<object>[], options: StorageOptions & { maxBatch?: number } = {}): Promise<OpenStore> {
  const environment = new LmdbEnvironment(path);
  const audit = new AuditService(environment);
  const acl = new AclService(environment);
  const { maxBatch, ...storageOptions } = options;
  const storage = new EntityStorage(environment, storageOptions, [audit, acl]);
  const definitions = entities.map((entity) => createEntityDefinition(entity));
  for (const definition of definitions) storage.register(definition);
  try {
    await storage.open();
  } catch (error) {
    await storage.close();
    throw error;
  }
  const repos = new Map<Function, EntityRepository<object>>();
  return {
    environment,
    storage,
    audit,
    acl,
    definitions,
    repo<T extends object>(entity: Type<T>): EntityRepository<T> {
      let repo = repos.get(entity);
      if (!repo) {
        repo = new EntityRepository(storage.definitionOf(entity) as EntityDefinition<object>, storage, maxBatch);
        repos.set(entity, repo);
      }
      return repo as unknown as EntityRepository<T>;
    },
    close: () => storage.close(),
  };
}

/** Every key/value pair of one named LMDB database of the store, in key order. */
export function dump(store: OpenStore, name: string): Array<{ key: unknown; value: unknown }> {
  return [...store.environment.database<unknown, never>(name).getRange({})].map(({ key, value }) => ({ key, value }));
}

/** The raw (msgpack-encoded) bytes of every value of one named database, keyed by the key's JSON. */
export function dumpBinary(store: OpenStore, name: string): Array<[string, string]> {
  const db = store.environment.database<unknown, never>(name);
  return [...db.getKeys({})].map((key) => [JSON.stringify(key), Buffer.from(db.getBinary(key as never) ?? []).toString('hex')]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** ULID as the package generates record and event ids. */
export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** ISO-8601 as `Date.prototype.toISOString` writes it. */
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** An id of the right shape that no record ever had. */
export const NEVER_USED_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
