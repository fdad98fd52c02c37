import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityEvent, StoredRecord } from './entity-event.interface.js';

/**
 * Derived data that follows every change of an entity (the audit trail, for one), written
 * by `applyEvent` inside the change's transaction from the event and the states before
 * and after it, so replaying the log rebuilds it too.
 */
export interface EntityProjection {
  /** Whether this projection follows the entity at all. */
  follows(definition: EntityDefinition): boolean;
  apply(definition: EntityDefinition, event: EntityEvent, before: StoredRecord | undefined, after: StoredRecord | undefined): void;
  /** LMDB databases the projection opens, so the environment's `maxDbs` leaves room for them. */
  readonly databaseCount: number;
}
