import type { FindQuery, FindResult } from '../query/find-query.interface.js';
import type { EntityInput, EntityRecord } from '../repository/entity-record.interface.js';
import type { EntityTransaction } from '../repository/entity.transaction.js';
import { EntityRepository, type FindOptions, type RepositoryWriteContext } from '../repository/entity.repository.js';
import type { PrincipalContext } from '../repository/principal-context.interface.js';
import type { EntityEvent } from '../storage/entity-event.interface.js';
import type { RecordHistory } from '../storage/field-history.store.js';
import type { EntitiesTelemetry } from './entities-telemetry.service.js';
import { currentRequestId } from '../common/request-context.util.js';

/**
 * The repository the module hands out: every operation is timed into the storage metrics
 * and runs in its own span, a `find` slower than `slowQueryMs` is logged with the plan the
 * query planner chose, and a write made while serving a request (see
 * `RequestContextInterceptor`) that names no request is audited under the request's id.
 * Behaves exactly as `EntityRepository` otherwise.
 */
export class ObservedEntityRepository<T extends object> extends EntityRepository<T> {
  /** One bound histogram child per operation, made on first use. */
  private readonly timers = new Map<string, (seconds: number) => void>();

  constructor(
    private readonly telemetry: EntitiesTelemetry,
    ...repository: ConstructorParameters<typeof EntityRepository<T>>
  ) {
    super(...repository);
  }

  override create(data: EntityInput<T>, context?: RepositoryWriteContext): Promise<EntityRecord<T>> {
    return this.observed('create', () => super.create(data, withRequest(context)));
  }

  override createMany(items: readonly EntityInput<T>[], context?: RepositoryWriteContext): Promise<EntityRecord<T>[]> {
    return this.observed('createMany', () => super.createMany(items, withRequest(context)));
  }

  override findById(id: string, options?: PrincipalContext): Promise<EntityRecord<T> | null> {
    return this.observed('findById', () => super.findById(id, options));
  }

  override find(query: FindQuery = {}, options?: FindOptions): Promise<FindResult<EntityRecord<T>>> {
    return this.observed(
      'find',
      () => super.find(query, options),
      () => `${this.explain(query)}; filters: ${Object.keys(query.where ?? {}).join(', ') || 'none'}; sort: ${query.sort ?? 'id'}`,
    );
  }

  override history(id: string, options?: PrincipalContext): Promise<RecordHistory | null> {
    return this.observed('history', () => super.history(id, options));
  }

  override events(options?: { afterSeq?: number; limit?: number }): Promise<EntityEvent[]> {
    return this.observed('events', () => super.events(options));
  }

  override replace(id: string, data: EntityInput<T>, context?: RepositoryWriteContext): Promise<EntityRecord<T>> {
    return this.observed('replace', () => super.replace(id, data, withRequest(context)));
  }

  override update(id: string, patch: Partial<EntityInput<T>>, context?: RepositoryWriteContext): Promise<EntityRecord<T>> {
    return this.observed('update', () => super.update(id, patch, withRequest(context)));
  }

  override delete(id: string, context?: RepositoryWriteContext): Promise<void> {
    return this.observed('delete', () => super.delete(id, withRequest(context)));
  }

  override transaction<R>(fn: (tx: EntityTransaction) => R, context?: RepositoryWriteContext): Promise<R> {
    return this.observed('transaction', () => super.transaction(fn, withRequest(context)));
  }

  private observed<R>(operation: string, run: () => Promise<R>, describe?: () => string): Promise<R> {
    let timer = this.timers.get(operation);
    if (!timer && this.telemetry.metrics) {
      timer = this.telemetry.metrics.operation(this.definition.name, operation);
      this.timers.set(operation, timer);
    }
    return this.telemetry.operation(this.definition.name, operation, timer, run, describe);
  }
}

/** The write context, with the id of the request being served when it names no request of its own. */
function withRequest(context: RepositoryWriteContext | undefined): RepositoryWriteContext | undefined {
  if (context?.request !== undefined) return context;
  const id = currentRequestId();
  return id === undefined ? context : { ...context, request: { id } };
}
