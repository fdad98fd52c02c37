import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { FindQuery, FindResult } from '../query/find-query.interface.js';
import type { QueryPlan } from '../query/query-plan.interface.js';
import { explainPlan } from '../query/query-planner.util.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import type { EntityEvent, StoredRecord } from '../storage/entity-event.interface.js';
import type { RecordHistory } from '../storage/field-history.store.js';
import type { Principal } from '../common/principal.interface.js';
import type { AccessPolicy } from './access-policy.interface.js';
import type { EntityChange } from './entity-change.interface.js';
import type { EntityInput, EntityPatch, EntityRecord } from './entity-record.interface.js';
import type { EntityTransaction } from './entity.transaction.js';
import type { OperationObserver, RepositoryOperation } from './operation-observer.interface.js';
import type { HistoryOptions } from './history-options.interface.js';
import type { PrincipalContext } from './principal-context.interface.js';
import type { FindOptions, ReadOptions } from './read-options.interface.js';
import type { RecordDiff } from './record-diff.interface.js';
import type { RepositoryWriteContext } from './repository-write-context.interface.js';
import type { SubscribeOptions } from './subscribe-options.interface.js';
import { subscribeChanges } from './entity-changes.util.js';
import { unreadableTo, withRequestOf } from './principal-access.util.js';
import { diffOf, historyOf, recordAt, revertTo } from './record-past.util.js';
import { explainFind, findOne, findRecords } from './record-reads.util.js';
import { toRecordView } from './record-view.util.js';
import { changeRecord, createRecord, createRecords, deleteRecord, purgeRecord, restoreRecord, runTransaction } from './record-writes.util.js';
import { checkRepositoryOpen } from './repository-open.util.js';

/** Largest number of records one `createMany` takes unless the module says otherwise. */
export const DEFAULT_MAX_BATCH = 1000;

/**
 * Reads and writes the records of one entity. Inject it with
 * `@InjectEntityRepository(Entity)`; the generated controller uses the same instance.
 * Every write resolves only once it is durable on disk. Every record it returns holds the
 * managed fields and the fields the class declares now, never one removed from it since.
 * An id no record can have is not found (`null`, or `RecordNotFoundException`).
 * Usable once the application has initialised (`app.init()` or `app.listen()`).
 */
export class EntityRepository<T extends object> {
  /** @internal */
  constructor(
    readonly definition: EntityDefinition<T>,
    private readonly storage: EntityStorage,
    /** Largest `createMany`, in records. */
    readonly maxBatch = DEFAULT_MAX_BATCH,
    private readonly access?: AccessPolicy,
    private readonly observer?: OperationObserver,
  ) {}

  /** Creates one record. Fails with `InvalidRecordException` or `UniqueConstraintException`. */
  create(data: EntityInput<T>, context: RepositoryWriteContext = {}): Promise<EntityRecord<T>> {
    return this.written(
      'create',
      context,
      (requested) => createRecord(this.storage, this.access, this.definition, data, requested) as Promise<EntityRecord<T>>,
    );
  }

  /**
   * Creates all records in one transaction, or none; a failure names the element's index.
   * An `idempotencyKey` covers the whole batch.
   */
  createMany(items: readonly EntityInput<T>[], context: RepositoryWriteContext = {}): Promise<EntityRecord<T>[]> {
    return this.written(
      'createMany',
      context,
      (requested) => createRecords(this.storage, this.access, this.definition, items, this.maxBatch, requested) as Promise<EntityRecord<T>[]>,
    );
  }

  /**
   * The record with this id, or `null` (also when a checked principal may not see it). With
   * `include`, type what it adds: `findById<{ permit: EntityRecord<Permit> | null }>(id, { include: ['permit'] })`.
   */
  findById<Included extends object = object>(id: string, options: ReadOptions = {}): Promise<(EntityRecord<T> & Included) | null> {
    return this.observed('findById', () => findOne(this.storage, this.access, this.definition, id, options) as Promise<(EntityRecord<T> & Included) | null>);
  }

  /** One page of the records that match `query`, in its sort order. Fails with `InvalidQueryException`. `Included` types what `include` adds, as for `findById`. */
  find<Included extends object = object>(query: FindQuery = {}, options: FindOptions = {}): Promise<FindResult<EntityRecord<T> & Included>> {
    /** The plan run, which conditions through references may have narrowed: what a slow-query line names. */
    let ran: QueryPlan | undefined;
    return this.observed(
      'find',
      () => findRecords(this.storage, this.access, this.definition, query, options, (plan) => (ran = plan)) as Promise<FindResult<EntityRecord<T> & Included>>,
      () => `${ran ? explainPlan(ran) : this.explain(query)}; filters: ${Object.keys(query.where ?? {}).join(', ') || 'none'}; sort: ${query.sort ?? 'id'}`,
    );
  }

  /** How `find(query)` would read the store, in one line (for logs and tests); conditions through references are left out. */
  explain(query: FindQuery = {}): string {
    return explainFind(this.storage, this.definition, query);
  }

  /**
   * The record's field history, per historized field, newest first; also for deleted
   * records. `null` only for an id that never existed. `field`, `limit` and `before` page it
   * (see `HistoryOptions`).
   */
  history(id: string, options: HistoryOptions = {}): Promise<RecordHistory | null> {
    return this.observed('history', () => historyOf(this.storage, this.access, this.definition, id, options));
  }

  /**
   * The record as it was at `point`: `{ version: N }`, or `{ asOf: time }` (a `Date` or an
   * ISO-8601 string: the state after the last change made at or before it). `null` when it had
   * no such version or did not exist then, and when a checked principal may not read its
   * history. Read from the event log: fails with `PastStateGoneException` when the log no longer
   * holds that state (see `eventRetention`), and `InvalidQueryException` for a malformed point.
   */
  findAt(id: string, point: { version: number } | { asOf: Date | string }, options: PrincipalContext = {}): Promise<EntityRecord<T> | null> {
    return this.observed('findAt', () => recordAt(this.storage, this.access, this.definition, id, point, options) as Promise<EntityRecord<T> | null>);
  }

  /**
   * How the record's fields changed from version `from` to version `to` (either way round):
   * per field that differs, `{ from, to }`, `null` for a value not set. `to` defaults to the
   * live record's version and `from` to the one before `to`, so `diff(id)` is its last change.
   * `null` when either version is not found (or, without `to`, no live record has the id);
   * fails like `findAt`.
   */
  diff(id: string, versions: { from?: number; to?: number } = {}, options: PrincipalContext = {}): Promise<RecordDiff | null> {
    return this.observed('diff', () => diffOf(this.storage, this.access, this.definition, id, versions, options));
  }

  /**
   * Writes the values the record had at `version` back, as a new version (a `replaced` event:
   * history and audit see a replace). With a principal, needs the `history` and `update`
   * permissions, and fields it may not write keep their current values. Fails with
   * `RecordNotFoundException` (no live record, or no such version), `PastStateGoneException`,
   * `VersionConflictException` (under `expectedVersion`) or `UniqueConstraintException`.
   */
  revert(id: string, version: number, context: RepositoryWriteContext = {}): Promise<EntityRecord<T>> {
    return this.written(
      'revert',
      context,
      (requested) => revertTo(this.storage, this.access, this.definition, id, version, requested) as Promise<EntityRecord<T>>,
    );
  }

  /**
   * This entity's changes as they are committed, by this process or another on the same data
   * directory, from the one after `afterSeq` (default: the log's end, so only new ones), in log
   * order, each once; for as long as the caller iterates, or until `signal` aborts. With a
   * principal, only changes to records it may read, shaped as it reads them (see EntityChange).
   * Fails at once with `AccessDeniedException`, `InvalidQueryException` (a malformed `afterSeq`)
   * or `PastStateGoneException` (the log no longer holds the changes after `afterSeq`, or, on a
   * store that is not replicated, ends before it).
   */
  subscribe(options: SubscribeOptions = {}): AsyncIterableIterator<EntityChange<EntityRecord<T>>> {
    return subscribeChanges(this.storage, this.access, this.definition, options) as AsyncIterableIterator<EntityChange<EntityRecord<T>>>;
  }

  /** This entity's events with a seq greater than `afterSeq`, oldest first, at most `limit` (default 100). */
  events(options: { afterSeq?: number; limit?: number } = {}): Promise<EntityEvent[]> {
    return this.observed('events', async () => {
      checkRepositoryOpen(this.storage, this.definition);
      // Like every read: events another process committed before this call are in its answer.
      this.storage.renewSnapshot();
      return this.storage.log.readEntity(this.definition.name, options.afterSeq ?? 0, options.limit ?? 100);
    });
  }

  /** Replaces every field of a record (immutable fields must keep their value); a replace that changes nothing writes nothing. */
  replace(id: string, data: EntityInput<T>, context: RepositoryWriteContext = {}): Promise<EntityRecord<T>> {
    return this.written(
      'replace',
      context,
      (requested) => changeRecord(this.storage, this.access, this.definition, 'replace', id, data, requested) as Promise<EntityRecord<T>>,
    );
  }

  /** Changes the given fields; `null` clears an optional field. An update that changes nothing writes nothing. */
  update(id: string, patch: EntityPatch<T>, context: RepositoryWriteContext = {}): Promise<EntityRecord<T>> {
    return this.written(
      'update',
      context,
      (requested) => changeRecord(this.storage, this.access, this.definition, 'update', id, patch, requested) as Promise<EntityRecord<T>>,
    );
  }

  /**
   * Deletes a record; on an entity with `softDelete` it is kept among the deleted records, from
   * where `restore` brings it back. Fails with `RecordNotFoundException` or `VersionConflictException`.
   */
  delete(id: string, context: RepositoryWriteContext = {}): Promise<void> {
    return this.written('delete', context, (requested) => deleteRecord(this.storage, this.access, this.definition, id, requested));
  }

  /**
   * Brings a soft-deleted record back, with the values it had, at its next version. With a
   * principal, needs the `delete` permission (or owning the record, or a `delete` grant on it).
   * Fails with `RecordNotFoundException` (no deleted record has the id), `VersionConflictException`
   * (`expectedVersion` is not the deleted record's) or `UniqueConstraintException` (another
   * record took one of its unique values since).
   */
  restore(id: string, context: RepositoryWriteContext = {}): Promise<EntityRecord<T>> {
    return this.written(
      'restore',
      context,
      (requested) => restoreRecord(this.storage, this.access, this.definition, id, requested) as Promise<EntityRecord<T>>,
    );
  }

  /**
   * Removes a record for good: a soft-deleted one from the deleted records, a live one at once.
   * With a principal, needs the entity's `admin` permission. History and audit entries stay.
   * Fails with `RecordNotFoundException` or `VersionConflictException`.
   */
  purge(id: string, context: RepositoryWriteContext = {}): Promise<void> {
    return this.written('purge', context, (requested) => purgeRecord(this.storage, this.access, this.definition, id, requested));
  }

  /**
   * Runs `fn` in one write transaction: everything it changes, in any entity of the same
   * store, commits together once `fn` returns, or not at all if it throws. `fn` must be
   * synchronous: LMDB holds its single write lock while it runs. It writes through `tx` only:
   * a repository write begun inside it fails, and the transaction with it; `tx` fails once `fn`
   * has returned. `context` is the default of each call, except `idempotencyKey` (refused here:
   * it belongs to one `tx.create`). With a `principal`, each change is checked and each record
   * the transaction returns shaped as for that principal.
   */
  transaction<R>(fn: (tx: EntityTransaction) => R, context: RepositoryWriteContext = {}): Promise<R> {
    return this.written('transaction', context, (requested) => runTransaction(this.storage, this.access, this.definition, fn, requested));
  }

  /**
   * With replication, the seq of the last replicated message this instance applied: every
   * write this instance has resolved is in it. Hand it to another instance (its `waitForSeq`,
   * or `X-Entities-Min-Seq` over HTTP) to read there what was written here. `undefined`
   * without replication.
   */
  get appliedSeq(): number | undefined {
    return this.storage.replication?.appliedSeq;
  }

  /**
   * With replication, resolves once this instance has applied the message at `seq` (an
   * `appliedSeq`, or an `X-Entities-Seq`, from any instance), so reads after it see that
   * write; fails with `StorageFailureException` when it has not within the replication
   * `timeout`. Without replication it resolves at once. A `RangeError` for a seq that is not
   * a whole number.
   */
  waitForSeq(seq: number): Promise<void> {
    if (!Number.isSafeInteger(seq) || seq < 0) return Promise.reject(new RangeError(`seq must be a whole number, not ${String(seq)}`));
    return this.storage.replication?.waitFor(seq) ?? Promise.resolve();
  }

  /**
   * `record` as the generated routes answer `principal` (anonymous when left out): the
   * managed fields, then the declared fields that are neither hidden nor unreadable to it.
   * For records a trusted call returned, before your code hands them out. It shapes only:
   * whether the principal may see the record at all is for `findById(id, { principal })`.
   */
  view(record: EntityRecord<T>, principal?: Principal | null): EntityRecord<T> {
    return toRecordView(this.definition, record as unknown as StoredRecord, unreadableTo(this.access, this.definition, { principal })) as EntityRecord<T>;
  }

  private observed<R>(operation: RepositoryOperation, run: () => Promise<R>, describe?: () => string): Promise<R> {
    let result: Promise<R>;
    // Operations are not async functions (a promise fewer per read): what one throws before its
    // first await (a closed store, a call inside a transaction callback) still rejects.
    try {
      result = this.observer ? this.observer.operation(this.definition.name, operation, run, describe) : run();
    } catch (error) {
      result = Promise.reject(error as Error);
    }
    // Refused inside a transaction callback, which cannot await it: the transaction fails with the same error.
    if (this.storage.environment.insideWrite) result.catch(() => undefined);
    return result;
  }

  /** A write bound to the calling request, whose id is known only until the caller first waits (see `currentRequestId`). */
  private written<R>(operation: RepositoryOperation, context: RepositoryWriteContext, write: (requested: RepositoryWriteContext) => Promise<R>): Promise<R> {
    const requested = withRequestOf(context);
    return this.observed(operation, () => write(requested));
  }
}
