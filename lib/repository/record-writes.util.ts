import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import { InvalidRecordException } from '../storage/invalid-record.exception.js';
import { ReferenceConflictException } from '../storage/reference-conflict.exception.js';
import { UniqueConstraintException } from '../storage/unique-constraint.exception.js';
import type { AccessPolicy } from './access-policy.interface.js';
import { EntityTransaction, type TransactionRules } from './entity.transaction.js';
import { checkedWriteFor, readFor, shapeFor, unreadableTo } from './principal-access.util.js';
import { checkRepositoryOpen } from './repository-open.util.js';
import type { RepositoryWriteContext } from './repository-write-context.interface.js';

/** `EntityRepository.create`'s work. */
export async function createRecord(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  data: unknown,
  requested: RepositoryWriteContext,
): Promise<Record<string, unknown>> {
  checkRepositoryOpen(storage, definition);
  const { data: checked, context: writeContext } = checkedWriteFor(access, definition, requested, 'create', data);
  const record = await storage.write((tx) => tx.idempotent(definition, writeContext, checked, () => tx.create(definition, checked, writeContext)));
  return shapeFor(access, definition, requested, record);
}

/** `EntityRepository.createMany`'s work: at most `maxBatch` records, all or none. */
export async function createRecords(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  items: readonly unknown[],
  maxBatch: number,
  requested: RepositoryWriteContext,
): Promise<Record<string, unknown>[]> {
  checkRepositoryOpen(storage, definition);
  const invalid = (problem: string) => new InvalidRecordException(definition.name, [problem]);
  if (!Array.isArray(items)) throw invalid('the data must be an array');
  if (items.length > maxBatch) throw invalid(`a batch holds at most ${maxBatch} records`);
  // Array.from, unlike map, visits a sparse array's holes, which are then refused like any `undefined`.
  const checked = Array.from(items, (item, index) => {
    try {
      return checkedWriteFor(access, definition, requested, 'create', item);
    } catch (error) {
      throw inElement(definition, index, error);
    }
  });
  const writeContext = checked[0]?.context ?? checkedWriteFor(access, definition, requested, 'create', {}).context;
  const records = await storage.write((tx) =>
    tx.idempotent(definition, writeContext, items, () =>
      checked.map(({ data: item }, index) => {
        try {
          return tx.create(definition, item, writeContext);
        } catch (error) {
          throw inElement(definition, index, error);
        }
      }),
    ),
  );
  const unreadable = unreadableTo(access, definition, requested);
  return records.map((record) => shapeFor(access, definition, requested, record, unreadable));
}

/** `EntityRepository.replace`'s and `update`'s work: every field of the record, or the given ones. */
export async function changeRecord(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  change: 'replace' | 'update',
  id: string,
  data: unknown,
  requested: RepositoryWriteContext,
): Promise<Record<string, unknown>> {
  checkRepositoryOpen(storage, definition);
  const checked = checkedWriteFor(access, definition, requested, 'update', data, id);
  const record = await storage.write((tx) => tx[change](definition, id, checked.data, checked.context));
  return shapeFor(access, definition, requested, record);
}

/** `EntityRepository.delete`'s work. */
export async function deleteRecord(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  id: string,
  requested: RepositoryWriteContext,
): Promise<void> {
  checkRepositoryOpen(storage, definition);
  const checked = checkedWriteFor(access, definition, requested, 'delete', {}, id);
  await storage.write((tx) => tx.delete(definition, id, checked.context));
}

/** `EntityRepository.restore`'s work. */
export async function restoreRecord(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  id: string,
  requested: RepositoryWriteContext,
): Promise<Record<string, unknown>> {
  checkRepositoryOpen(storage, definition);
  if (!definition.softDelete) throw new TypeError(`${definition.name} keeps no deleted records: declare @Entity({ softDelete: true })`);
  const checked = checkedWriteFor(access, definition, requested, 'delete', {}, id);
  const record = await storage.write((tx) => tx.restoreDeleted(definition, id, checked.context));
  return shapeFor(access, definition, requested, record);
}

/** `EntityRepository.purge`'s work. */
export async function purgeRecord(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  id: string,
  requested: RepositoryWriteContext,
): Promise<void> {
  checkRepositoryOpen(storage, definition);
  const checked = checkedWriteFor(access, definition, requested, 'admin', {}, id);
  await storage.write((tx) => tx.purgeRecord(definition, id, checked.context));
}

/** `EntityRepository.transaction`'s work: `fn` run in one write, each change under `access`. */
export async function runTransaction<R>(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  fn: (tx: EntityTransaction) => R,
  requested: RepositoryWriteContext,
): Promise<R> {
  checkRepositoryOpen(storage, definition);
  // As a default of every call, one key would name several different creates (a conflict), or
  // the same create twice (one record, returned twice).
  if (requested.idempotencyKey !== undefined) {
    throw new TypeError('an idempotencyKey makes one create safe to retry: pass it to that tx.create, not to transaction()');
  }
  const rules: TransactionRules = {
    checkWrite: (target, writeContext, action, data, id) => checkedWriteFor(access, target, writeContext, action, data, id),
    read: (target, readContext, record) => readFor(access, target, readContext, record),
    view: (target, writeContext, record) => shapeFor(access, target, writeContext, record),
  };
  return storage.write((tx) => {
    const transaction = new EntityTransaction(tx, (entity) => storage.definitionOf(entity), requested, rules);
    try {
      const result = fn(transaction);
      if (result instanceof Promise) {
        // What it does after its first await fails on the ended transaction; that failure is this one's.
        result.catch(() => undefined);
        throw new TypeError('a transaction callback must be synchronous; it returned a Promise');
      }
      return result;
    } finally {
      transaction.end();
    }
  });
}

/** A batch element's failure, naming the element: its problems, unique conflict or dangling reference. */
function inElement(definition: EntityDefinition, index: number, error: unknown): unknown {
  if (error instanceof InvalidRecordException) {
    return new InvalidRecordException(
      definition.name,
      error.problems.map((problem) => `[${index}] ${problem}`),
    );
  }
  if (error instanceof UniqueConstraintException) return new UniqueConstraintException(error.entity, error.index, error.fields, index);
  if (error instanceof ReferenceConflictException) return new ReferenceConflictException(error.entity, error.detail, index);
  return error;
}
