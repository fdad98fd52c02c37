import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityEvent, StoredRecord } from './entity-event.interface.js';
import type { EventLog } from './event-log.store.js';
import type { CompanionChange, StoreChange } from './store-change.interface.js';

/** A write transaction as a companion sees it: every change it makes goes through `apply`. */
export interface ChangeApplying {
  apply(change: StoreChange): void;
}

/** Runs a companion's writes: decide from the current state, then apply the changes decided. */
export interface ChangeWriter {
  /** Runs `decide` in one write transaction and resolves once it is durable. */
  write<R>(decide: (tx: ChangeApplying) => R): Promise<R>;
}

/**
 * A service that keeps its own LMDB databases in the store's environment. The storage
 * opens them with the environment, outside any transaction: a database first opened inside
 * a transaction that then rolls back would leave a dead handle behind.
 */
export interface StoreCompanion {
  /** LMDB databases it opens, so the environment's `maxDbs` leaves room for them. */
  readonly databaseCount: number;
  /** The part before the dot of the `kind` of the changes it applies (`acl` for `acl.grant`), if it makes any. */
  readonly changePrefix?: string;
  /** Opens its databases; called once the environment is open, with the writer its changes go through. */
  open(writer: ChangeWriter): void;
  /** Applies one of its own changes inside the current write transaction; reads only what the change names. */
  applyChange?(change: CompanionChange): void;
  /** Whether its databases hold anything: state a store written without replication has and a stream lacks. */
  holdsState(): boolean;
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
  /** For `verify`: checks its databases against each other and against the log; `onEntry` hears each of its entries walked. */
  verify(log: EventLog, onEntry: () => void): ProjectionCheck;
}

/** What a projection's `verify` found: how many entries it holds (`VerifyReport.checked[counted]`) and every inconsistency. */
export interface ProjectionCheck {
  counted: 'auditEntries' | 'grants';
  entries: number;
  problems: string[];
}
