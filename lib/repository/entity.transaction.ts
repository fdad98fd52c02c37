import type { Type } from '@nestjs/common';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { WriteContext } from '../storage/write-context.interface.js';
import type { WriteTransaction } from '../storage/write-transaction.store.js';
import type { EntityInput, EntityPatch, EntityRecord } from './entity-record.interface.js';
import type { PrincipalContext } from './principal-context.interface.js';

/** A write's context; with a `principal` key, the write is checked against its rules. */
export interface TransactionWriteContext extends WriteContext, PrincipalContext {}

/** What the repository that runs a transaction applies to each of its reads and writes. */
export interface TransactionRules {
  /** The principal's rules on a change: what to write, under which write context. */
  checkWrite(
    definition: EntityDefinition,
    context: TransactionWriteContext,
    action: 'create' | 'update' | 'delete' | 'admin',
    data: unknown,
    id?: string,
  ): { data: unknown; context: WriteContext };
  /** A stored record, or none, as a read with `context` answers it (`null`: missing, or concealed from its principal). */
  read(definition: EntityDefinition, context: PrincipalContext, record: StoredRecord | undefined): Record<string, unknown> | null;
  /** A written record as the write's caller gets it. */
  view(definition: EntityDefinition, context: PrincipalContext, record: StoredRecord): Record<string, unknown>;
}

/**
 * Changes to several records, of several entities, that commit together or not at all.
 * Given to the callback of `EntityRepository.transaction`; its methods are synchronous
 * and see the transaction's own earlier changes. The records they return are shaped as the
 * repository's own: for a principal (of the transaction or of one call) as the generated
 * routes answer it; for trusted code, every declared field.
 */
export class EntityTransaction {
  private ended = false;

  /** @internal */
  constructor(
    private readonly tx: WriteTransaction,
    private readonly definitionOf: (entity: Type<object>) => EntityDefinition,
    private readonly defaults: TransactionWriteContext,
    private readonly rules: TransactionRules,
  ) {}

  /** The record with this id, or `null` (also when a checked principal may not see it). */
  findById<T extends object>(entity: Type<T>, id: string, context?: PrincipalContext): EntityRecord<T> | null {
    this.checkOpen();
    const definition = this.definitionOf(entity);
    return this.rules.read(definition, this.withDefaults(context), this.tx.get(definition, id)) as EntityRecord<T> | null;
  }

  /** Creates a record; with an `idempotencyKey`, a retry returns the first result instead. */
  create<T extends object>(entity: Type<T>, data: EntityInput<T>, context?: TransactionWriteContext): EntityRecord<T> {
    this.checkOpen();
    const definition = this.definitionOf(entity);
    const merged = this.withDefaults(context);
    const checked = this.rules.checkWrite(definition, merged, 'create', data);
    const record = this.tx.idempotent(definition, checked.context, checked.data, () => this.tx.create(definition, checked.data, checked.context));
    return this.rules.view(definition, merged, record) as EntityRecord<T>;
  }

  replace<T extends object>(entity: Type<T>, id: string, data: EntityInput<T>, context?: TransactionWriteContext): EntityRecord<T> {
    this.checkOpen();
    const definition = this.definitionOf(entity);
    const merged = this.withDefaults(context);
    const checked = this.rules.checkWrite(definition, merged, 'update', data, id);
    return this.rules.view(definition, merged, this.tx.replace(definition, id, checked.data, checked.context)) as EntityRecord<T>;
  }

  update<T extends object>(entity: Type<T>, id: string, patch: EntityPatch<T>, context?: TransactionWriteContext): EntityRecord<T> {
    this.checkOpen();
    const definition = this.definitionOf(entity);
    const merged = this.withDefaults(context);
    const checked = this.rules.checkWrite(definition, merged, 'update', patch, id);
    return this.rules.view(definition, merged, this.tx.update(definition, id, checked.data, checked.context)) as EntityRecord<T>;
  }

  delete<T extends object>(entity: Type<T>, id: string, context?: TransactionWriteContext): void {
    this.checkOpen();
    const definition = this.definitionOf(entity);
    const checked = this.rules.checkWrite(definition, this.withDefaults(context), 'delete', {}, id);
    this.tx.delete(definition, id, checked.context);
  }

  /** Brings back a soft-deleted record, as `EntityRepository.restore` does (a principal needs `delete`). */
  restore<T extends object>(entity: Type<T>, id: string, context?: TransactionWriteContext): EntityRecord<T> {
    this.checkOpen();
    const definition = this.definitionOf(entity);
    if (!definition.softDelete) throw new TypeError(`${definition.name} keeps no deleted records: declare @Entity({ softDelete: true })`);
    const merged = this.withDefaults(context);
    const checked = this.rules.checkWrite(definition, merged, 'delete', {}, id);
    return this.rules.view(definition, merged, this.tx.restoreDeleted(definition, id, checked.context)) as EntityRecord<T>;
  }

  /** Removes a record for good, as `EntityRepository.purge` does (a principal needs `admin`). */
  purge<T extends object>(entity: Type<T>, id: string, context?: TransactionWriteContext): void {
    this.checkOpen();
    const definition = this.definitionOf(entity);
    const checked = this.rules.checkWrite(definition, this.withDefaults(context), 'admin', {}, id);
    this.tx.purgeRecord(definition, id, checked.context);
  }

  /**
   * Ends the transaction for its callback: what a saved `tx`, or an async callback after its
   * first `await`, would write later would be stored outside any transaction.
   * @internal
   */
  end(): void {
    this.ended = true;
  }

  private checkOpen(): void {
    if (this.ended) throw new TypeError('this transaction has ended: use a transaction only inside its callback, which must be synchronous');
  }

  /**
   * A call's context over the transaction's defaults. A key the call leaves `undefined`
   * (`{ actor: options.actor }`) keeps the default, except `principal`, whose presence
   * alone means "acting as this principal", an anonymous one when `undefined`.
   */
  private withDefaults(context: TransactionWriteContext | undefined): TransactionWriteContext {
    const merged: Record<string, unknown> = Object.assign({}, this.defaults) as Record<string, unknown>;
    for (const key of Object.keys(context ?? {})) {
      const value = (context as Record<string, unknown>)[key];
      if (value !== undefined || key === 'principal') merged[key] = value;
    }
    return merged as TransactionWriteContext;
  }
}
