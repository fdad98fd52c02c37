import { Logger, type Type } from '@nestjs/common';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { FindQuery, FindResult } from '../query/find-query.interface.js';
import { normalizeQuery } from '../query/query-clause.util.js';
import { runQuery } from '../query/query-executor.util.js';
import { explainPlan, planQuery } from '../query/query-planner.util.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import { InvalidRecordException } from '../storage/invalid-record.exception.js';
import type { WriteContext } from '../storage/write-context.interface.js';
import type { EntityEvent, StoredRecord } from '../storage/entity-event.interface.js';
import type { RecordHistory } from '../storage/field-history.store.js';
import type { EntityInput, EntityRecord } from './entity-record.interface.js';
import { EntityTransaction } from './entity-transaction.store.js';
import { AccessDeniedException } from '../permission/access-denied.exception.js';
import type { AccessDecision, EntityAccess } from '../permission/entity-access.store.js';
import type { EntityAction } from '../permission/entity-action.constants.js';
import type { Principal } from '../permission/principal.interface.js';
import { EntitiesLogger } from '../tracing/entities-logger.util.js';

/** Largest number of records one `createMany` takes unless the module says otherwise. */
export const DEFAULT_MAX_BATCH = 1000;

const QUERY_LOGGER = new EntitiesLogger('EntitiesQuery');

/** On behalf of whom a repository call runs. */
export interface PrincipalContext {
  /**
   * When this key is present (a principal, or `null` for an anonymous caller) the call is
   * checked like an HTTP request: entity rules, the owner rule, grants, field rules. Leave
   * it out for trusted code of your own.
   */
  principal?: Principal | null;
}

/** Options of a repository write. */
export interface RepositoryWriteContext extends WriteContext, PrincipalContext {}

/** Options of `find` beyond the query itself. */
export interface FindOptions extends PrincipalContext {
  /** Only records for which this returns true are listed (record-level access); pages stay full and exact. */
  visible?: (record: StoredRecord) => boolean;
}

/**
 * Reads and writes the records of one entity. Inject it with
 * `@InjectEntityRepository(Entity)`; the generated controller uses the same instance.
 * Every write resolves only once it is durable on disk.
 */
export class EntityRepository<T extends object> {
  constructor(
    readonly definition: EntityDefinition<T>,
    /** The store this repository reads and writes. */
    readonly storage: EntityStorage,
    /** Largest `createMany`, in records. */
    readonly maxBatch = DEFAULT_MAX_BATCH,
    private readonly access?: EntityAccess,
  ) {}

  /** Creates one record. Fails with `InvalidRecordException` or `UniqueConstraintException`. */
  async create(data: EntityInput<T>, context: RepositoryWriteContext = {}): Promise<EntityRecord<T>> {
    const checked = this.checkedWrite(context, 'create', data);
    return this.write((tx) => tx.create(this.target, checked.data as EntityInput<T>, checked.context));
  }

  /**
   * Creates all records in one transaction, or none; a failure names the element's index.
   * An `idempotencyKey` covers the whole batch.
   */
  async createMany(items: readonly EntityInput<T>[], context: RepositoryWriteContext = {}): Promise<EntityRecord<T>[]> {
    const invalid = (problem: string) => new InvalidRecordException(this.definition.name, [problem]);
    if (!Array.isArray(items)) throw invalid('the data must be an array');
    if (items.length > this.maxBatch) throw invalid(`a batch holds at most ${this.maxBatch} records`);
    const checked = items.map((item) => this.checkedWrite(context, 'create', item));
    const writeContext = checked[0]?.context ?? this.checkedWrite(context, 'create', {}).context;
    return this.storage.write((tx) =>
      tx.idempotent(this.definition, writeContext, items, () =>
        checked.map(({ data: item }, index) => {
          try {
            return tx.create(this.definition, item, writeContext) as unknown as EntityRecord<T>;
          } catch (error) {
            if (!(error instanceof InvalidRecordException)) throw error;
            throw new InvalidRecordException(this.definition.name, error.problems.map((problem) => `[${index}] ${problem}`));
          }
        }),
      ),
    );
  }

  /** The record with this id, or `null` (also when a checked principal may not see it). */
  async findById(id: string, options: PrincipalContext = {}): Promise<EntityRecord<T> | null> {
    this.storage.renewSnapshot();
    const record = this.storage.tablesOf(this.definition).records.get(id) ?? null;
    const decision = this.decision(options, 'read');
    if (!record || !decision) return record as EntityRecord<T> | null;
    if (!this.access!.canRead(this.definition, decision, record)) return null;
    return this.withoutUnreadable(decision, record);
  }

  /** One page of the records that match `query`, in its sort order. Fails with `InvalidQueryException`. */
  async find(query: FindQuery = {}, options: FindOptions = {}): Promise<FindResult<EntityRecord<T>>> {
    const normalized = normalizeQuery(this.definition, query);
    const plan = planQuery(this.definition, normalized.clauses, normalized.sort);
    if (Logger.isLevelEnabled('debug')) QUERY_LOGGER.debug(`${this.definition.name}: ${explainPlan(plan)}`);
    const tables = this.storage.tablesOf(this.definition);
    this.storage.renewSnapshot();
    const decision = this.decision(options, 'read');
    if (!decision) return runQuery(tables, normalized, plan, this.storage.cursorKey, options.visible) as FindResult<EntityRecord<T>>;
    const unreadable = this.access!.unreadableFields(this.definition, decision);
    const refused = [...normalized.clauses.map((clause) => clause.field), normalized.sort.field].find((field) => unreadable.has(field));
    if (refused) throw new AccessDeniedException('forbidden', `filtering or sorting on ${refused} is not allowed`);
    const visible = (record: StoredRecord) =>
      this.access!.canRead(this.definition, decision, record) && (options.visible?.(record) ?? true);
    const page = runQuery(tables, normalized, plan, this.storage.cursorKey, visible);
    return { items: page.items.map((record) => this.withoutUnreadable(decision, record)), nextCursor: page.nextCursor };
  }

  /** How `find(query)` would read the store, in one line (for logs and tests). */
  explain(query: FindQuery = {}): string {
    const normalized = normalizeQuery(this.definition, query);
    return explainPlan(planQuery(this.definition, normalized.clauses, normalized.sort));
  }

  /**
   * The record's field history, per historized field, newest first; also for deleted
   * records. `null` only for an id that never existed.
   */
  async history(id: string, options: PrincipalContext = {}): Promise<RecordHistory | null> {
    this.storage.renewSnapshot();
    const decision = this.decision(options, 'history');
    if (decision && !decision.entityWide) {
      // Owners and grantees see the history of records that still exist; a deleted record's is for entity-wide readers.
      const record = this.storage.tablesOf(this.definition).records.get(id);
      if (!record || !this.access!.canRead(this.definition, decision, record)) return null;
    }
    const history = this.storage.history(this.definition, id);
    if (!history || !decision) return history ?? null;
    const unreadable = this.access!.unreadableFields(this.definition, decision);
    return { id, fields: Object.fromEntries(Object.entries(history.fields).filter(([field]) => !unreadable.has(field))) };
  }

  /** This entity's events with a seq greater than `afterSeq`, oldest first, at most `limit` (default 100). */
  async events(options: { afterSeq?: number; limit?: number } = {}): Promise<EntityEvent[]> {
    const limit = options.limit ?? 100;
    const found: EntityEvent[] = [];
    let after = options.afterSeq ?? 0;
    for (;;) {
      const batch = this.storage.events(after, 1000);
      for (const event of batch) {
        if (event.entity === this.definition.name) found.push(event);
        if (found.length === limit) return found;
      }
      if (batch.length < 1000) return found;
      after = batch[batch.length - 1]!.seq;
    }
  }

  /** Replaces every field of a record (immutable fields must keep their value). */
  async replace(id: string, data: EntityInput<T>, context: RepositoryWriteContext = {}): Promise<EntityRecord<T>> {
    const checked = this.checkedWrite(context, 'update', data, id);
    return this.write((tx) => tx.replace(this.target, id, checked.data as EntityInput<T>, checked.context));
  }

  /** Changes the given fields; `null` clears an optional field. */
  async update(id: string, patch: Partial<EntityInput<T>>, context: RepositoryWriteContext = {}): Promise<EntityRecord<T>> {
    const checked = this.checkedWrite(context, 'update', patch, id);
    return this.write((tx) => tx.update(this.target, id, checked.data as Partial<EntityInput<T>>, checked.context));
  }

  /** Deletes a record. Fails with `RecordNotFoundException` or `VersionConflictException`. */
  async delete(id: string, context: RepositoryWriteContext = {}): Promise<void> {
    const checked = this.checkedWrite(context, 'delete', {}, id);
    await this.write((tx) => tx.delete(this.target, id, checked.context));
  }

  /**
   * Runs `fn` in one write transaction: everything it changes, in any entity of the same
   * store, commits together once `fn` returns, or not at all if it throws. `fn` must be
   * synchronous: LMDB holds its single write lock while it runs.
   */
  transaction<R>(fn: (tx: EntityTransaction) => R, context: RepositoryWriteContext = {}): Promise<R> {
    return this.write(fn, context);
  }

  /** The access decision of a call made on behalf of a principal; `undefined` for trusted calls. */
  private decision(context: PrincipalContext, action: EntityAction): AccessDecision | undefined {
    if (!('principal' in context) || !this.access) return undefined;
    return this.access.decide(this.definition, action, context.principal ?? undefined);
  }

  /**
   * Applies the principal's rules to a write: entity rule now, field rules on the data, the
   * owner stamp on creates, and the record-level check inside the transaction.
   */
  private checkedWrite(
    context: RepositoryWriteContext,
    action: 'create' | 'update' | 'delete',
    data: unknown,
    id?: string,
    definition: EntityDefinition = this.definition,
  ): { data: unknown; context: WriteContext } {
    const { principal, ...writeContext } = context;
    if (!('principal' in context) || !this.access) return { data, context: writeContext };
    const checked = this.access.checkWrite(definition, principal ?? undefined, action, data, id);
    return { data: checked.data, context: { ...writeContext, ...checked.context, actor: writeContext.actor ?? checked.context.actor } };
  }

  private withoutUnreadable(decision: AccessDecision, record: StoredRecord): EntityRecord<T> {
    const unreadable = this.access!.unreadableFields(this.definition, decision);
    if (unreadable.size === 0) return record as EntityRecord<T>;
    const copy: Record<string, unknown> = { ...record };
    for (const field of unreadable) delete copy[field];
    return copy as EntityRecord<T>;
  }

  private get target(): Type<T> {
    return this.definition.target;
  }

  private write<R>(fn: (tx: EntityTransaction) => R, defaults: RepositoryWriteContext = {}): Promise<R> {
    return this.storage.write((tx) => {
      const check = (definition: EntityDefinition, context: RepositoryWriteContext, action: 'create' | 'update' | 'delete', data: unknown, id?: string) =>
        this.checkedWrite(context, action, data, id, definition);
      const result = fn(new EntityTransaction(tx, (entity) => this.storage.definitionOf(entity), defaults, check));
      if (result instanceof Promise) throw new TypeError('a transaction callback must be synchronous; it returned a Promise');
      return result;
    });
  }
}
