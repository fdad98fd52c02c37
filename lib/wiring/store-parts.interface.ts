import type { AuditService } from '../audit/audit.service.js';
import type { AclService } from '../permission/acl.service.js';
import type { StoreReplicator } from '../replication/store-replicator.service.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';

/** The storage of one data directory and the services that keep their own databases in it. */
export interface StoreParts {
  storage: EntityStorage;
  /** Follows every change of an `@Audited` entity, as a projection of the storage. */
  audit: AuditService;
  /** Record grants, opened with the storage as a companion. */
  acl: AclService;
  /** Orders the storage's writes with other instances', when replication is on. */
  replicator?: StoreReplicator;
}
