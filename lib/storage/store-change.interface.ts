import type { EventRetention } from '../common/storage-options.interface.js';
import type { EntityEvent } from './entity-event.interface.js';
import type { SchemaState } from './schema-state.interface.js';

/**
 * One change of the store's state with everything decided: ids, times, versions, results and
 * the values it leaves behind are in it. Applying it reads only the state it changes, so the
 * same changes applied in the same order to the same store leave the same bytes, on any
 * machine. Writers decide and then apply; nothing else changes the state (records, indexes,
 * history, the log, audit trail, idempotency results, grants).
 */
export type StoreChange = EventChange | RememberChange | PurgeChange | SchemaChange | CompanionChange;

/** An entity change: appended to the log with the next seq, then applied by `applyEvent`. */
export interface EventChange {
  kind: 'event';
  event: Omit<EntityEvent, 'seq'>;
}

/** The result of a write made with an idempotency key, kept until `expiresAt`. */
export interface RememberChange {
  kind: 'remember';
  entity: string;
  /** The actor the key is scoped to; '' for none. */
  actor: string;
  key: string;
  fingerprint: string;
  result: unknown;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** Forgets idempotency results expired at `now` and drops events past `retention` as of `now`. */
export interface PurgeChange {
  kind: 'purge';
  /** Epoch milliseconds. */
  now: number;
  retention?: EventRetention;
}

/** An entity's schema version, or how far a migration of its records has got (`SchemaVersions`). */
export interface SchemaChange {
  kind: 'schema';
  entity: string;
  state: SchemaState;
}

/**
 * A change to the databases of a store companion (grants, the audit of refused writes). The
 * part of `kind` before the dot names the companion that applies it.
 */
export interface CompanionChange {
  kind: `${string}.${string}`;
}
