import type { Type } from '@nestjs/common';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { Principal } from '../permission/principal.interface.js';
import type { WriteContext } from '../storage/write-context.interface.js';
import type { WriteTransaction } from '../storage/write-transaction.store.js';
import type { EntityInput, EntityRecord } from './entity-record.interface.js';

/** A write's context; with a `principal` key, the write is checked against its rules. */
export interface TransactionWriteContext extends WriteContext {
  principal?: Principal | null;
}

type WriteCheck = (
  definition: EntityDefinition,
  context: TransactionWriteContext,
  action: 'create' | 'update' | 'delete',
  data: unknown,
  id?: string,
) => { data: unknown; context: WriteContext };

/**
 * Changes to several records, of several entities, that commit together or not at all.
 * Given to the callback of `EntityRepository.transaction`; its methods are synchronous
 * and see the transaction's own earlier changes.
 */
export class EntityTransaction {
  constructor(
    private readonly tx: WriteTransaction,
    private readonly definitionOf: (entity: Type<object>) => EntityDefinition,
    private readonly defaults: TransactionWriteContext,
    private readonly check: WriteCheck,
  ) {}

  findById<T extends object>(entity: Type<T>, id: string): EntityRecord<T> | null {
    return (this.tx.get(this.definitionOf(entity), id) as EntityRecord<T> | undefined) ?? null;
  }

  /** Creates a record; with an `idempotencyKey`, a retry returns the first result instead. */
  create<T extends object>(entity: Type<T>, data: EntityInput<T>, context?: TransactionWriteContext): EntityRecord<T> {
    const definition = this.definitionOf(entity);
    const checked = this.checked(definition, context, 'create', data);
    return this.tx.idempotent(definition, checked.context, data, () =>
      this.tx.create(definition, checked.data, checked.context),
    ) as unknown as EntityRecord<T>;
  }

  replace<T extends object>(entity: Type<T>, id: string, data: EntityInput<T>, context?: TransactionWriteContext): EntityRecord<T> {
    const definition = this.definitionOf(entity);
    const checked = this.checked(definition, context, 'update', data, id);
    return this.tx.replace(definition, id, checked.data, checked.context) as unknown as EntityRecord<T>;
  }

  update<T extends object>(entity: Type<T>, id: string, patch: Partial<EntityInput<T>>, context?: TransactionWriteContext): EntityRecord<T> {
    const definition = this.definitionOf(entity);
    const checked = this.checked(definition, context, 'update', patch, id);
    return this.tx.update(definition, id, checked.data, checked.context) as unknown as EntityRecord<T>;
  }

  delete<T extends object>(entity: Type<T>, id: string, context?: TransactionWriteContext): void {
    const definition = this.definitionOf(entity);
    this.tx.delete(definition, id, this.checked(definition, context, 'delete', {}, id).context);
  }

  private checked(definition: EntityDefinition, context: TransactionWriteContext = {}, action: 'create' | 'update' | 'delete', data: unknown, id?: string) {
    return this.check(definition, { ...this.defaults, ...context }, action, data, id);
  }
}
