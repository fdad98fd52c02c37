import type { Type } from '@nestjs/common';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { WriteContext } from '../storage/write-context.interface.js';
import type { WriteTransaction } from '../storage/write-transaction.store.js';
import type { EntityInput, EntityRecord } from './entity-record.interface.js';

/**
 * Changes to several records, of several entities, that commit together or not at all.
 * Given to the callback of `EntityRepository.transaction`; its methods are synchronous
 * and see the transaction's own earlier changes.
 */
export class EntityTransaction {
  constructor(
    private readonly tx: WriteTransaction,
    private readonly definitionOf: (entity: Type<object>) => EntityDefinition,
    private readonly defaults: WriteContext,
  ) {}

  findById<T extends object>(entity: Type<T>, id: string): EntityRecord<T> | null {
    return (this.tx.get(this.definitionOf(entity), id) as EntityRecord<T> | undefined) ?? null;
  }

  /** Creates a record; with an `idempotencyKey`, a retry returns the first result instead. */
  create<T extends object>(entity: Type<T>, data: EntityInput<T>, context?: WriteContext): EntityRecord<T> {
    const definition = this.definitionOf(entity);
    const full = this.context(context);
    return this.tx.idempotent(definition, full, data, () => this.tx.create(definition, data, full)) as unknown as EntityRecord<T>;
  }

  replace<T extends object>(entity: Type<T>, id: string, data: EntityInput<T>, context?: WriteContext): EntityRecord<T> {
    return this.tx.replace(this.definitionOf(entity), id, data, this.context(context)) as unknown as EntityRecord<T>;
  }

  update<T extends object>(entity: Type<T>, id: string, patch: Partial<EntityInput<T>>, context?: WriteContext): EntityRecord<T> {
    return this.tx.update(this.definitionOf(entity), id, patch, this.context(context)) as unknown as EntityRecord<T>;
  }

  delete<T extends object>(entity: Type<T>, id: string, context?: WriteContext): void {
    this.tx.delete(this.definitionOf(entity), id, this.context(context));
  }

  private context(context: WriteContext = {}): WriteContext {
    return { ...this.defaults, ...context };
  }
}
