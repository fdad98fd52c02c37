import { AuditService } from '../audit/audit.service.js';
import type { ReplicationOptions } from '../common/replication-options.interface.js';
import type { StorageOptions } from '../common/storage-options.interface.js';
import { StoreReplicator } from '../replication/store-replicator.service.js';
import { AclService } from '../permission/acl.service.js';
import { EntityStorage } from '../storage/entity-storage.store.js';
import type { LmdbEnvironment } from '../storage/lmdb-environment.store.js';
import type { StoreParts } from './store-parts.interface.js';

/**
 * Wires the storage of `environment` with its projections and companions. The module and the
 * command line both build their store here, so a tool opens the store with every database the
 * app keeps in it and replays changes into the same projections.
 */
export function createStoreParts(environment: LmdbEnvironment, options: StorageOptions = {}, replication?: ReplicationOptions): StoreParts {
  const audit = new AuditService(environment);
  const acl = new AclService(environment);
  const replicator = replication && new StoreReplicator(replication);
  return { storage: new EntityStorage(environment, options, [audit, acl], [], replicator), audit, acl, ...(replicator && { replicator }) };
}
