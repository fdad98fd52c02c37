import { Logger } from '@nestjs/common';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { FindQuery, FindResult } from '../query/find-query.interface.js';
import { normalizeQuery } from '../query/query-clause.util.js';
import { runQuery } from '../query/query-executor.util.js';
import { recordsFor } from '../query/deleted-records.util.js';
import { InvalidQueryException } from '../query/invalid-query.exception.js';
import { isoDateOf } from '../common/date-value.util.js';
import { pastRecord, type PastPoint } from '../storage/past-record.util.js';
import { PastStateGoneException } from '../storage/past-state-gone.exception.js';
import { RecordNotFoundException } from '../storage/record-not-found.exception.js';
import type { AccessDecision } from './access-policy.interface.js';
import { explainPlan, planQuery } from '../query/query-planner.util.js';
import type { QueryPlan } from '../query/query-plan.interface.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import { InvalidRecordException } from '../storage/invalid-record.exception.js';
import { StorageFailureException } from '../storage/storage-failure.exception.js';
import { isRecordId } from '../storage/record-id.util.js';
import type { WriteContext } from '../storage/write-context.interface.js';
import type { DeletedRecord, EntityEvent, StoredRecord } from '../storage/entity-event.interface.js';
import type { RecordHistory } from '../storage/field-history.store.js';
import type { EntityInput, EntityRecord } from './entity-record.interface.js';
import { EntityTransaction, type TransactionRules } from './entity.transaction.js';
import type { PrincipalContext } from './principal-context.interface.js';
import { checkedWriteFor, checkQueryFields, withRequestOf, decisionOf, readFor, shapeFor, unreadableTo, unreadableUnder } from './principal-access.util.js';
import { includedReferences, withIncluded } from './included-records.util.js';
import { narrowByReferences, splitReferenceConditions } from './reference-filter.util.js';
import { toDeclaredRecord, toHistoryView, toRecordView } from './record-view.util.js';
import type { AccessPolicy } from './access-policy.interface.js';
import type { Principal } from '../common/principal.interface.js';
import { EntitiesLogger } from '../common/entities.logger.js';
import type { OperationObserver, RepositoryOperation } from './operation-observer.interface.js';

/** Largest number of records one `createMany` takes unless the module says otherwise. */
export const DEFAULT_MAX_BATCH = 1000;

const QUERY_LOGGER = new EntitiesLogger('EntitiesQuery');

/** Options of a repository write. */
export interface RepositoryWriteContext extends WriteContext, PrincipalContext {}

/** Log events a subscriber reads at a time. */
const CHANGE_BATCH = 500;

/** One committed change as `EntityRepository.subscribe` and `GET /P/changes` deliver it. */
export interface EntityChange<R = Record<string, unknown>> {
  /** The event's seq in the log: resume after it with `afterSeq` (or SSE's `Last-Event-ID`). */
  seq: number;
  entity: string;
  id: string;
  type: EntityEvent['type'];
  version: number;
  at: string;
  /** The record the change left, shaped for the subscriber; absent for `deleted` and `purged`, and when the log no longer holds that state. */
  record?: R;
}

/** Options of `EntityRepository.subscribe`. */
export interface SubscribeOptions extends PrincipalContext {
  /** Deliver changes with a greater seq; default: the log's last seq, so only changes from now on. */
  afterSeq?: number;
  /** Ends the subscription: a pending `next()` resolves as done. */
  signal?: AbortSignal;
}

/** How a record's fields changed between two versions (`EntityRepository.diff`). */
export interface RecordDiff {
  id: string;
  from: number;
  to: number;
  changes: Record<string, { from: unknown; to: unknown }>;
}

/** A point of `findAt` checked, its time in stored form. */
function pastPointOf(point: { version: number } | { asOf: Date | string }): PastPoint {
  if ('version' in point) {
    if (!Number.isSafeInteger(point.version) || point.version < 1) throw new InvalidQueryException('version must be a positive integer');
    return { version: point.version };
  }
  const asOf = isoDateOf(point.asOf);
  if (asOf === undefined) throw new InvalidQueryException('asOf must be an ISO-8601 date');
  return { asOf };
}

/** Options of a read beyond the query itself. */
export interface ReadOptions extends PrincipalContext {
  /**
   * References to add to each record, by name (`@Reference`'s `as`: `['permit']`), each as the
   * record it points to, shaped for the principal like a read of that entity, or `null`.
   */
  include?: readonly string[];
}

/** Options of `find` beyond the query itself. */
export type FindOptions = ReadOptions;

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
    const requested = withRequestOf(context);
    return this.observed('create', async () => {
      this.checkOpen();
      const { data: checked, context: writeContext } = checkedWriteFor(this.access, this.definition, requested, 'create', data);
      const record = await this.storage.write((tx) =>
        tx.idempotent(this.definition, writeContext, checked, () => tx.create(this.definition, checked, writeContext)),
      );
      return shapeFor(this.access, this.definition, requested, record) as EntityRecord<T>;
    });
  }

  /**
   * Creates all records in one transaction, or none; a failure names the element's index.
   * An `idempotencyKey` covers the whole batch.
   */
  createMany(items: readonly EntityInput<T>[], context: RepositoryWriteContext = {}): Promise<EntityRecord<T>[]> {
    const requested = withRequestOf(context);
    return this.observed('createMany', async () => {
      this.checkOpen();
      const invalid = (problem: string) => new InvalidRecordException(this.definition.name, [problem]);
      if (!Array.isArray(items)) throw invalid('the data must be an array');
      if (items.length > this.maxBatch) throw invalid(`a batch holds at most ${this.maxBatch} records`);
      const checked = items.map((item) => checkedWriteFor(this.access, this.definition, requested, 'create', item));
      const writeContext = checked[0]?.context ?? checkedWriteFor(this.access, this.definition, requested, 'create', {}).context;
      const records = await this.storage.write((tx) =>
        tx.idempotent(this.definition, writeContext, items, () =>
          checked.map(({ data: item }, index) => {
            try {
              return tx.create(this.definition, item, writeContext);
            } catch (error) {
              if (!(error instanceof InvalidRecordException)) throw error;
              throw new InvalidRecordException(
                this.definition.name,
                error.problems.map((problem) => `[${index}] ${problem}`),
              );
            }
          }),
        ),
      );
      const unreadable = unreadableTo(this.access, this.definition, requested);
      return records.map((record) => shapeFor(this.access, this.definition, requested, record, unreadable) as EntityRecord<T>);
    });
  }

  /**
   * The record with this id, or `null` (also when a checked principal may not see it). With
   * `include`, type what it adds: `findById<{ permit: EntityRecord<Permit> | null }>(id, { include: ['permit'] })`.
   */
  findById<Included extends object = object>(id: string, options: ReadOptions = {}): Promise<(EntityRecord<T> & Included) | null> {
    return this.observed('findById', async () => {
      this.checkOpen();
      const included = options.include ? includedReferences(this.storage, this.access, this.definition, options, options.include) : [];
      this.storage.renewSnapshot();
      const record = isRecordId(id) ? this.storage.tablesOf(this.definition).records.get(id) : undefined;
      const view = readFor(this.access, this.definition, options, record);
      return (view && withIncluded(this.storage, this.access, this.definition, options, [view], included)[0]!) as (EntityRecord<T> & Included) | null;
    });
  }

  /** One page of the records that match `query`, in its sort order. Fails with `InvalidQueryException`. `Included` types what `include` adds, as for `findById`. */
  find<Included extends object = object>(query: FindQuery = {}, options: FindOptions = {}): Promise<FindResult<EntityRecord<T> & Included>> {
    /** The plan run, which conditions through references may have narrowed: what a slow-query line names. */
    let ran: QueryPlan | undefined;
    return this.observed(
      'find',
      async () => {
        this.checkOpen();
        const forPrincipal = 'principal' in options;
        const { own, through } = splitReferenceConditions(this.definition, query, forPrincipal);
        let normalized = normalizeQuery(this.definition, own);
        const included = options.include ? includedReferences(this.storage, this.access, this.definition, options, options.include) : [];
        const including = (items: Record<string, unknown>[]) =>
          withIncluded(this.storage, this.access, this.definition, options, items, included) as (EntityRecord<T> & Included)[];
        const decision = decisionOf(this.access, this.definition, options, 'read');
        const unreadable = unreadableUnder(this.access, this.definition, decision);
        if (forPrincipal) {
          checkQueryFields(
            this.definition,
            unreadable,
            normalized.clauses.map((clause) => clause.field),
            normalized.sort.field,
          );
        }
        this.storage.renewSnapshot();
        // Resolved in the snapshot the query reads, before planning: few records referred to become an `in` its index answers.
        const narrowing = through.length > 0 ? narrowByReferences(this.storage, this.access, this.definition, options, through) : undefined;
        if (narrowing?.none) return { items: [], nextCursor: null };
        if (narrowing) normalized = { ...normalized, clauses: [...normalized.clauses, ...narrowing.clauses] };
        const { tables, definition: planned } = recordsFor(this.storage.tablesOf(this.definition), normalized.deleted);
        const plan = planQuery(planned, normalized.clauses, normalized.sort);
        ran = plan;
        if (Logger.isLevelEnabled('debug')) QUERY_LOGGER.debug(`${this.definition.name}: ${explainPlan(plan)}`);
        const related = narrowing?.matches ?? (() => true);
        if (!forPrincipal) {
          const page = runQuery(tables, normalized, plan, this.storage.cursorKey, related);
          return { items: including(page.items.map((record) => toDeclaredRecord(this.definition, record))), nextCursor: page.nextCursor };
        }
        // Deleted records are for those who could restore them: readers who may also delete them.
        const deleting = normalized.deleted === 'exclude' ? undefined : decisionOf(this.access, this.definition, options, 'delete');
        const visible = (record: StoredRecord) =>
          (!decision || this.access!.canRead(this.definition, decision, record)) &&
          (!deleting || !(record as Partial<DeletedRecord>).deletedAt || this.access!.permits(this.definition, deleting, record)) &&
          related(record);
        const page = runQuery(tables, normalized, plan, this.storage.cursorKey, visible);
        return { items: including(page.items.map((record) => toRecordView(this.definition, record, unreadable))), nextCursor: page.nextCursor };
      },
      () => `${ran ? explainPlan(ran) : this.explain(query)}; filters: ${Object.keys(query.where ?? {}).join(', ') || 'none'}; sort: ${query.sort ?? 'id'}`,
    );
  }

  /** How `find(query)` would read the store, in one line (for logs and tests); conditions through references are left out. */
  explain(query: FindQuery = {}): string {
    const normalized = normalizeQuery(this.definition, splitReferenceConditions(this.definition, query, false).own);
    const { definition: planned } = recordsFor(this.storage.tablesOf(this.definition), normalized.deleted);
    return explainPlan(planQuery(planned, normalized.clauses, normalized.sort));
  }

  /**
   * The record's field history, per historized field, newest first; also for deleted
   * records. `null` only for an id that never existed.
   */
  history(id: string, options: PrincipalContext = {}): Promise<RecordHistory | null> {
    return this.observed('history', async () => {
      this.checkOpen();
      this.storage.renewSnapshot();
      const decision = decisionOf(this.access, this.definition, options, 'history');
      if (!isRecordId(id)) return null;
      if (decision && !decision.entityWide) {
        // Owners and grantees see the history of records that still exist; a deleted record's is for entity-wide readers.
        const record = this.storage.tablesOf(this.definition).records.get(id);
        if (!record || !this.access!.canRead(this.definition, decision, record)) return null;
      }
      const history = this.storage.history(this.definition, id);
      if (!history || !('principal' in options)) return history ?? null;
      return toHistoryView(this.definition, history, unreadableUnder(this.access, this.definition, decision));
    });
  }

  /**
   * The record as it was at `point`: `{ version: N }`, or `{ asOf: time }` (a `Date` or an
   * ISO-8601 string: the state after the last change made at or before it). `null` when it had
   * no such version or did not exist then, and when a checked principal may not read its
   * history. Read from the event log: fails with `PastStateGoneException` when the log no longer
   * holds that state (see `eventRetention`), and `InvalidQueryException` for a malformed point.
   */
  findAt(id: string, point: { version: number } | { asOf: Date | string }, options: PrincipalContext = {}): Promise<EntityRecord<T> | null> {
    return this.observed('findAt', async () => {
      this.checkOpen();
      this.storage.renewSnapshot();
      const decision = decisionOf(this.access, this.definition, options, 'history');
      const past = this.pastOf(id, pastPointOf(point), decision);
      if (!past) return null;
      if (!('principal' in options)) return toDeclaredRecord(this.definition, past) as EntityRecord<T>;
      return toRecordView(this.definition, past, unreadableUnder(this.access, this.definition, decision)) as EntityRecord<T>;
    });
  }

  /**
   * How the record's fields changed from version `from` to version `to` (either way round):
   * per field that differs, `{ from, to }`, `null` for a value not set. `to` defaults to the
   * live record's version and `from` to the one before `to`, so `diff(id)` is its last change.
   * `null` when either version is not found (or, without `to`, no live record has the id);
   * fails like `findAt`.
   */
  diff(id: string, versions: { from?: number; to?: number } = {}, options: PrincipalContext = {}): Promise<RecordDiff | null> {
    return this.observed('diff', async () => {
      this.checkOpen();
      this.storage.renewSnapshot();
      const decision = decisionOf(this.access, this.definition, options, 'history');
      const to = versions.to ?? (isRecordId(id) ? this.storage.tablesOf(this.definition).records.get(id)?.version : undefined);
      if (to === undefined) return null;
      const from = versions.from ?? Math.max(1, to - 1);
      const [before, after] = [from, to].map((version) => this.pastOf(id, pastPointOf({ version }), decision));
      if (!before || !after) return null;
      const unreadable = unreadableUnder(this.access, this.definition, decision);
      const changes: RecordDiff['changes'] = {};
      for (const field of this.definition.fields) {
        if ('principal' in options && (field.hidden || unreadable.has(field.name))) continue;
        const was = before[field.name] ?? null;
        const is = after[field.name] ?? null;
        if (was !== is) changes[field.name] = { from: was, to: is };
      }
      return { id, from, to, changes };
    });
  }

  /**
   * Writes the values the record had at `version` back, as a new version (a `replaced` event:
   * history and audit see a replace). With a principal, needs the `history` and `update`
   * permissions, and fields it may not write keep their current values. Fails with
   * `RecordNotFoundException` (no live record, or no such version), `PastStateGoneException`,
   * `VersionConflictException` (under `expectedVersion`) or `UniqueConstraintException`.
   */
  revert(id: string, version: number, context: RepositoryWriteContext = {}): Promise<EntityRecord<T>> {
    const requested = withRequestOf(context);
    return this.observed('revert', async () => {
      this.checkOpen();
      this.storage.renewSnapshot();
      const reading = decisionOf(this.access, this.definition, requested, 'history');
      const past = this.pastOf(id, pastPointOf({ version }), reading);
      if (!past) throw new RecordNotFoundException(this.definition.name, `${id} version ${version}`);
      const writing = decisionOf(this.access, this.definition, requested, 'update');
      const kept = writing ? this.access!.unwritableFields(this.definition, writing) : new Set<string>();
      const data: Record<string, unknown> = {};
      for (const field of this.definition.fields) if (past[field.name] !== undefined && !kept.has(field.name)) data[field.name] = past[field.name];
      const checked = checkedWriteFor(this.access, this.definition, requested, 'update', data, id);
      const record = await this.storage.write((tx) => tx.replace(this.definition, id, checked.data, checked.context));
      return shapeFor(this.access, this.definition, requested, record) as EntityRecord<T>;
    });
  }

  /** A record's past state, or none; `undefined` too when the decision's principal may not read the live record's history. */
  private pastOf(id: string, point: PastPoint, decision: AccessDecision | undefined): StoredRecord | undefined {
    if (!isRecordId(id)) return undefined;
    const tables = this.storage.tablesOf(this.definition);
    const current = tables.records.get(id);
    // As for history: owners and grantees see the past of records that still exist.
    if (decision && !decision.entityWide && (!current || !this.access!.canRead(this.definition, decision, current))) return undefined;
    if (current && ('version' in point ? current.version === point.version : current.updatedAt <= point.asOf)) return current;
    const events = [...this.storage.log.recordEvents(this.definition.name, id)];
    const past = pastRecord(events, point, (current ?? tables.deleted?.get(id))?.createdAt);
    if (past.kind === 'gone') {
      throw new PastStateGoneException(
        this.definition.name,
        `${JSON.stringify(id)} ${'version' in point ? `at version ${point.version}` : `as of ${point.asOf}`}`,
      );
    }
    return past.kind === 'found' ? past.record : undefined;
  }

  /**
   * This entity's changes as they are committed, by this process or another on the same data
   * directory, from the one after `afterSeq` (default: the log's end, so only new ones), in log
   * order, each once; for as long as the caller iterates, or until `signal` aborts. With a
   * principal, only changes to records it may read, shaped as it reads them (see EntityChange).
   * Fails at once with `AccessDeniedException`, `InvalidQueryException` (a malformed `afterSeq`)
   * or `PastStateGoneException` (the log no longer holds the changes after `afterSeq`).
   */
  subscribe(options: SubscribeOptions = {}): AsyncIterableIterator<EntityChange<EntityRecord<T>>> {
    this.checkOpen();
    const decision = decisionOf(this.access, this.definition, options, 'read');
    const log = this.storage.log;
    this.storage.renewSnapshot();
    const after = options.afterSeq ?? log.lastSeq();
    if (!Number.isSafeInteger(after) || after < 0) throw new InvalidQueryException('afterSeq must be a whole number from 0');
    if (log.firstSeq() > after + 1) throw new PastStateGoneException(this.definition.name, `changes after seq ${after}`);
    const shape = (record: StoredRecord) =>
      ('principal' in options
        ? toRecordView(this.definition, record, unreadableUnder(this.access, this.definition, decision))
        : toDeclaredRecord(this.definition, record)) as EntityRecord<T>;
    return this.changesAfter(after, decision, shape, options.signal);
  }

  private async *changesAfter(
    after: number,
    decision: AccessDecision | undefined,
    shape: (record: StoredRecord) => EntityRecord<T>,
    signal?: AbortSignal,
  ): AsyncGenerator<EntityChange<EntityRecord<T>>> {
    let cursor = after;
    let grew = true;
    let wake: (() => void) | undefined;
    const nudge = () => {
      grew = true;
      wake?.();
    };
    const unwatch = this.storage.watchLog(nudge);
    signal?.addEventListener('abort', nudge);
    try {
      while (!signal?.aborted && this.storage.subscriptionsOpen) {
        if (!grew) await new Promise<void>((resolve) => (wake = resolve));
        if (signal?.aborted || !this.storage.subscriptionsOpen) return;
        grew = false;
        this.checkOpen();
        this.storage.renewSnapshot();
        const events = this.storage.log.read(cursor, CHANGE_BATCH);
        // Trimmed while this subscriber was behind: what it missed cannot be told.
        if (events[0] && events[0].seq !== cursor + 1) throw new PastStateGoneException(this.definition.name, `changes after seq ${cursor}`);
        if (events.length === CHANGE_BATCH) grew = true;
        for (const event of events) {
          cursor = event.seq;
          if (event.entity !== this.definition.name) continue;
          const change = this.changeOf(event, decision, shape);
          if (change) yield change;
          if (signal?.aborted) return;
        }
      }
    } finally {
      unwatch();
      signal?.removeEventListener('abort', nudge);
    }
  }

  /** An event as a subscriber sees it, or none when its principal may not read the record at that version. */
  private changeOf(
    event: EntityEvent,
    decision: AccessDecision | undefined,
    shape: (record: StoredRecord) => EntityRecord<T>,
  ): EntityChange<EntityRecord<T>> | undefined {
    let state: StoredRecord | undefined;
    try {
      // For a delete or a purge, the state it removed; otherwise the one it made.
      state = this.pastOf(event.id, { version: event.version }, undefined);
    } catch (error) {
      if (!(error instanceof PastStateGoneException)) throw error;
    }
    if (decision && !decision.entityWide && (!state || !this.access!.canRead(this.definition, decision, state))) return undefined;
    const removes = event.type === 'deleted' || event.type === 'purged';
    return {
      seq: event.seq,
      entity: event.entity,
      id: event.id,
      type: event.type,
      version: event.version,
      at: event.at,
      ...(!removes && state && { record: shape(state) }),
    };
  }

  /** This entity's events with a seq greater than `afterSeq`, oldest first, at most `limit` (default 100). */
  events(options: { afterSeq?: number; limit?: number } = {}): Promise<EntityEvent[]> {
    return this.observed('events', async () => {
      this.checkOpen();
      return this.storage.log.readEntity(this.definition.name, options.afterSeq ?? 0, options.limit ?? 100);
    });
  }

  /** Replaces every field of a record (immutable fields must keep their value). */
  replace(id: string, data: EntityInput<T>, context: RepositoryWriteContext = {}): Promise<EntityRecord<T>> {
    const requested = withRequestOf(context);
    return this.observed('replace', async () => {
      this.checkOpen();
      const checked = checkedWriteFor(this.access, this.definition, requested, 'update', data, id);
      const record = await this.storage.write((tx) => tx.replace(this.definition, id, checked.data, checked.context));
      return shapeFor(this.access, this.definition, requested, record) as EntityRecord<T>;
    });
  }

  /** Changes the given fields; `null` clears an optional field. */
  update(id: string, patch: Partial<EntityInput<T>>, context: RepositoryWriteContext = {}): Promise<EntityRecord<T>> {
    const requested = withRequestOf(context);
    return this.observed('update', async () => {
      this.checkOpen();
      const checked = checkedWriteFor(this.access, this.definition, requested, 'update', patch, id);
      const record = await this.storage.write((tx) => tx.update(this.definition, id, checked.data, checked.context));
      return shapeFor(this.access, this.definition, requested, record) as EntityRecord<T>;
    });
  }

  /**
   * Deletes a record; on an entity with `softDelete` it is kept among the deleted records, from
   * where `restore` brings it back. Fails with `RecordNotFoundException` or `VersionConflictException`.
   */
  delete(id: string, context: RepositoryWriteContext = {}): Promise<void> {
    const requested = withRequestOf(context);
    return this.observed('delete', async () => {
      this.checkOpen();
      const checked = checkedWriteFor(this.access, this.definition, requested, 'delete', {}, id);
      await this.storage.write((tx) => tx.delete(this.definition, id, checked.context));
    });
  }

  /**
   * Brings a soft-deleted record back, with the values it had, at its next version. With a
   * principal, needs the `delete` permission (or owning the record, or a `delete` grant on it).
   * Fails with `RecordNotFoundException` (no deleted record has the id), `VersionConflictException`
   * (`expectedVersion` is not the deleted record's) or `UniqueConstraintException` (another
   * record took one of its unique values since).
   */
  restore(id: string, context: RepositoryWriteContext = {}): Promise<EntityRecord<T>> {
    const requested = withRequestOf(context);
    return this.observed('restore', async () => {
      this.checkOpen();
      if (!this.definition.softDelete) throw new TypeError(`${this.definition.name} keeps no deleted records: declare @Entity({ softDelete: true })`);
      const checked = checkedWriteFor(this.access, this.definition, requested, 'delete', {}, id);
      const record = await this.storage.write((tx) => tx.restoreDeleted(this.definition, id, checked.context));
      return shapeFor(this.access, this.definition, requested, record) as EntityRecord<T>;
    });
  }

  /**
   * Removes a record for good: a soft-deleted one from the deleted records, a live one at once.
   * With a principal, needs the entity's `admin` permission. History and audit entries stay.
   * Fails with `RecordNotFoundException` or `VersionConflictException`.
   */
  purge(id: string, context: RepositoryWriteContext = {}): Promise<void> {
    const requested = withRequestOf(context);
    return this.observed('purge', async () => {
      this.checkOpen();
      const checked = checkedWriteFor(this.access, this.definition, requested, 'admin', {}, id);
      await this.storage.write((tx) => tx.purgeRecord(this.definition, id, checked.context));
    });
  }

  /**
   * Runs `fn` in one write transaction: everything it changes, in any entity of the same
   * store, commits together once `fn` returns, or not at all if it throws. `fn` must be
   * synchronous: LMDB holds its single write lock while it runs. With a `principal`, each
   * change is checked and each record the transaction returns shaped as for that principal.
   */
  transaction<R>(fn: (tx: EntityTransaction) => R, context: RepositoryWriteContext = {}): Promise<R> {
    const requested = withRequestOf(context);
    return this.observed('transaction', async () => {
      this.checkOpen();
      const rules: TransactionRules = {
        checkWrite: (definition, writeContext, action, data, id) => checkedWriteFor(this.access, definition, writeContext, action, data, id),
        read: (definition, readContext, record) => readFor(this.access, definition, readContext, record),
        view: (definition, writeContext, record) => shapeFor(this.access, definition, writeContext, record),
      };
      return this.storage.write((tx) => {
        const result = fn(new EntityTransaction(tx, (entity) => this.storage.definitionOf(entity), requested, rules));
        if (result instanceof Promise) throw new TypeError('a transaction callback must be synchronous; it returned a Promise');
        return result;
      });
    });
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
    return this.observer ? this.observer.operation(this.definition.name, operation, run, describe) : run();
  }

  /**
   * The store opens in the application's init; Nest builds and hands out repositories
   * before that, and lmdb's own error for a closed store says nothing of the cause.
   */
  private checkOpen(): void {
    if (this.storage.environment.isOpen) return;
    throw new StorageFailureException(
      `EntityRepository<${this.definition.name}> used while its store is not open: before the application initialised ` +
        "(call app.init() or app.listen() first; from a lifecycle hook, use onApplicationBootstrap, which runs after every module's onModuleInit) or after it closed",
      false,
    );
  }
}
