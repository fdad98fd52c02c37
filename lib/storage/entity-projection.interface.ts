import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityEvent, StoredRecord } from './entity-event.interface.js';

/**
 * A service that keeps its own LMDB databases in the store's environment. The storage
 * opens them with the environment, outside any transaction: a database first opened inside
 * a transaction that then rolls back would leave a dead handle behind.
 */
export interface StoreCompanion {
  /** LMDB databases it opens, so the environment's `maxDbs` leaves room for them. */
  readonly databaseCount: number;
  /** Opens its databases; called once the environment is open. */
  open(): void;
}

/**
 * Derived data that follows every change of an entity (the audit trail, for one), written
 * by `applyEvent` inside the change's transaction from the event and the states before
 * and after it, so replaying the log rebuilds it too.
 */
export interface EntityProjection extends StoreCompanion {
  /** Whether this projection follows the entity at all. */
  follows(definition: EntityDefinition): boolean;
  apply(definition: EntityDefinition, event: EntityEvent, before: StoredRecord | undefined, after: StoredRecord | undefined): void;
}
