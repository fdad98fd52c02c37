import { Logger, type Type } from '@nestjs/common';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { FindQuery, FindResult } from '../query/find-query.interface.js';
import { normalizeQuery } from '../query/query-clause.util.js';
import { runQuery } from '../query/query-executor.util.js';
import { explainPlan, planQuery } from '../query/query-planner.util.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import { InvalidRecordException } from '../storage/invalid-record.exception.js';
import type { WriteContext } from '../storage/write-context.interface.js';
import type { EntityEvent } from '../storage/entity-event.interface.js';
import type { RecordHistory } from '../storage/field-history.store.js';
import type { EntityInput, EntityRecord } from './entity-record.interface.js';
import { EntityTransaction } from './entity-transaction.store.js';

/** Largest number of records one `createMany` takes unless the module says otherwise. */
export const DEFAULT_MAX_BATCH = 1000;

const QUERY_LOGGER = new Logger('EntitiesQuery');

/**
 * Reads and writes the records of one entity. Inject it with
 * `@InjectEntityRepository(Entity)`; the generated controller uses the same instance.
 * Every write resolves only once it is durable on disk.
 */
export class EntityRepository<T extends object> {
  constructor(
    readonly definition: EntityDefinition<T>,
    private readonly storage: EntityStorage,
    /** Largest `createMany`, in records. */
    readonly maxBatch = DEFAULT_MAX_BATCH,
  ) {}

  /** Creates one record. Fails with `InvalidRecordException` or `UniqueConstraintException`. */
  create(data: EntityInput<T>, context?: WriteContext): Promise<EntityRecord<T>> {
    return this.write((tx) => tx.create(this.target, data, context));
  }

  /**
   * Creates all records in one transaction, or none; a failure names the element's index.
   * An `idempotencyKey` covers the whole batch.
   */
  createMany(items: readonly EntityInput<T>[], context: WriteContext = {}): Promise<EntityRecord<T>[]> {
    const invalid = (problem: string) => Promise.reject(new InvalidRecordException(this.definition.name, [problem]));
    if (!Array.isArray(items)) return invalid('the data must be an array');
    if (items.length > this.maxBatch) return invalid(`a batch holds at most ${this.maxBatch} records`);
    return this.storage.write((tx) =>
      tx.idempotent(this.definition, context, items, () =>
        items.map((item, index) => {
          try {
            return tx.create(this.definition, item, context) as unknown as EntityRecord<T>;
          } catch (error) {
            if (!(error instanceof InvalidRecordException)) throw error;
            throw new InvalidRecordException(this.definition.name, error.problems.map((problem) => `[${index}] ${problem}`));
          }
        }),
      ),
    );
  }

  /** The record with this id, or `null`. */
  async findById(id: string): Promise<EntityRecord<T> | null> {
    return (this.storage.tablesOf(this.definition).records.get(id) as EntityRecord<T> | undefined) ?? null;
  }

  /** One page of the records that match `query`, in its sort order. Fails with `InvalidQueryException`. */
  async find(query: FindQuery = {}): Promise<FindResult<EntityRecord<T>>> {
    const normalized = normalizeQuery(this.definition, query);
    const plan = planQuery(this.definition, normalized.clauses, normalized.sort);
    if (Logger.isLevelEnabled('debug')) QUERY_LOGGER.debug(`${this.definition.name}: ${explainPlan(plan)}`);
    return runQuery(this.storage.tablesOf(this.definition), normalized, plan) as FindResult<EntityRecord<T>>;
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
  async history(id: string): Promise<RecordHistory | null> {
    return this.storage.history(this.definition, id) ?? null;
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
  replace(id: string, data: EntityInput<T>, context?: WriteContext): Promise<EntityRecord<T>> {
    return this.write((tx) => tx.replace(this.target, id, data, context));
  }

  /** Changes the given fields; `null` clears an optional field. */
  update(id: string, patch: Partial<EntityInput<T>>, context?: WriteContext): Promise<EntityRecord<T>> {
    return this.write((tx) => tx.update(this.target, id, patch, context));
  }

  /** Deletes a record. Fails with `RecordNotFoundException` or `VersionConflictException`. */
  async delete(id: string, context?: WriteContext): Promise<void> {
    await this.write((tx) => tx.delete(this.target, id, context));
  }

  /**
   * Runs `fn` in one write transaction: everything it changes, in any entity of the same
   * store, commits together once `fn` returns, or not at all if it throws. `fn` must be
   * synchronous: LMDB holds its single write lock while it runs.
   */
  transaction<R>(fn: (tx: EntityTransaction) => R, context: WriteContext = {}): Promise<R> {
    return this.write(fn, context);
  }

  private get target(): Type<T> {
    return this.definition.target;
  }

  private write<R>(fn: (tx: EntityTransaction) => R, defaults: WriteContext = {}): Promise<R> {
    return this.storage.write((tx) => {
      const result = fn(new EntityTransaction(tx, (entity) => this.storage.definitionOf(entity), defaults));
      if (result instanceof Promise) throw new TypeError('a transaction callback must be synchronous; it returned a Promise');
      return result;
    });
  }
}
