import type { ReplicationHealth } from '../common/health-options.interface.js';
import type { ReplicationPosition } from './replication-position.util.js';
import type { StorageFailureException } from './storage-failure.exception.js';
import type { StoreChange } from './store-change.interface.js';
import type { WriteTransaction } from './write-transaction.store.js';

/** Writes decided in turn on the store's current state, with nothing stored yet. */
export interface DecidedWrites {
  /** Per write, in order: what it returned, or what it threw (its changes then count for nothing). */
  outcomes: Array<{ result: unknown } | { error: unknown }>;
  /** Every change the writes that returned decided, in order; none when no write changes anything. */
  changes: StoreChange[];
  /** The replicated message the state they were decided on ends with. */
  position: ReplicationPosition;
}

/** What a sequencer uses of the store it orders writes for. */
export interface SequencedStore {
  /**
   * Runs each of `writes` in turn, each seeing the changes of those before it that returned, in
   * one write transaction that is rolled back: their outcomes and changes, nothing stored.
   */
  decide(writes: ReadonlyArray<(tx: WriteTransaction) => unknown>): DecidedWrites;
  /**
   * Applies the message at `seq` (its encoded bytes) in one durable write transaction, unless
   * it was applied already; throws `ReplicationDivergedException` for one that does not follow.
   * `adopting`: the message is the baseline this store appended to start the stream.
   * `backlog`: the message was in the stream when this instance started, so it may have been
   * decided under the definitions the store was opened with before.
   */
  applyReplicated(seq: number, bytes: Uint8Array, options?: { adopting?: boolean; backlog?: boolean }): Promise<boolean>;
  /** The last message applied, as every process has committed it so far. */
  position(): ReplicationPosition;
  /** Whether the store holds changes no replicated message made (it was written without replication). */
  hasLocalChanges(): boolean;
  /** The id this store starts a stream from its own data under, the same at every start (`adoptionOf`). */
  adoption(): Promise<string>;
  /** Hash of how the entities are stored; on every message. */
  readonly catalog: string;
  /** Refuses every write from now on (health reports it); reads go on. */
  stop(failure: StorageFailureException): void;
}

/**
 * Orders every write of the store with the writes of other instances (replication): a write
 * is decided, then appended to the shared log, then applied, and only then answered.
 */
export interface WriteSequencer {
  /** Connects and catches up with what the other instances wrote; the store is open. */
  start(store: SequencedStore): Promise<void>;
  write<R>(fn: (tx: WriteTransaction) => R): Promise<R>;
  /** The seq of the last message this instance applied: every write answered before it is visible here. */
  readonly appliedSeq: number;
  /** Resolves once this instance has applied the message at `seq`; a `StorageFailureException` if it has not in time. */
  waitFor(seq: number): Promise<void>;
  /** Whether writes can go through now: the sequencer follows and the stream answers; `problem` says why not. */
  health(): Promise<{ details: ReplicationHealth; problem?: string }>;
  close(): Promise<void>;
}
