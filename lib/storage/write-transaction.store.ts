import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { DeletedRecord, EntityEventType, StoredRecord } from './entity-event.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import type { ChangeApplier } from './change-applier.service.js';
import type { EventRetention } from '../common/storage-options.interface.js';
import type { ChangeApplying } from './entity-projection.interface.js';
import { nextState, withoutDeletedAt } from './event-applier.util.js';
import { fingerprintOf, type IdempotencyStore } from './idempotency.store.js';
import type { MaintenanceResult } from './maintenance-result.interface.js';
import type { PurgeChange, StoreChange } from './store-change.interface.js';
import type { EntityRelations } from './entity-registry.service.js';
import { InvalidRecordException } from './invalid-record.exception.js';
import { isRecordId, nextRecordId } from './record-id.util.js';
import type { RecordMigration } from './record-migration.util.js';
import { checkWriteContext } from './write-context.util.js';
import { undeclaredFields } from './undeclared-fields.util.js';
import { replacesNothing } from './unchanged-replace.util.js';
import { refuseUnseenImmutables, unseenImmutables, unseenIn } from './unseen-fields.util.js';
import type { WriteContext } from './write-context.interface.js';
import type { CommitOptions, CommittingTransaction } from './committing-transaction.interface.js';
import { checkedInput } from './checked-input.util.js';
import { importedRecord } from './record-import.util.js';
import { updateDeleted } from './deleted-record-update.util.js';
import { checkReferences, releaseReferences } from './reference-integrity.util.js';
import { checkUnique } from './unique-check.util.js';
import { decidedEvent } from './decided-event.util.js';
import { checkOwnerKept, currentOrFail, deletedOrFail } from './record-preconditions.util.js';

/**
 * The changes one LMDB write transaction makes. Every method is synchronous and runs
 * inside the transaction: it checks the change against the current state, decides it
 * (ids, times, versions) and applies it through the store's one `ChangeApplier`, so a check
 * and the write it guards cannot be separated by another writer, in this process or another.
 */
export class WriteTransaction implements ChangeApplying, CommittingTransaction {
  /** Records restored here, whose references are checked as the transaction ends (see `finish`). */
  private readonly restored: Array<{ definition: EntityDefinition; id: string }> = [];

  constructor(
    private readonly tablesOf: (definition: EntityDefinition) => EntityTables,
    private readonly relations: EntityRelations,
    private readonly applier: ChangeApplier,
    private readonly idempotency: IdempotencyStore,
    /** Where the changes applied are listed, in order, when the caller ships them (replication). */
    private readonly applied?: StoreChange[],
  ) {}

  /**
   * Checks the references of the records restored in this transaction, as they stand at its
   * end: records deleted together (a cycle of cascades) come back together, each referring to
   * the others. A problem fails the whole transaction, which the caller runs this last in.
   */
  finish(): void {
    for (const { definition, id } of this.restored.splice(0)) {
      const record = this.get(definition, id);
      if (record) checkReferences(this, this.relations, definition, record, undefined);
    }
  }

  /** Applies a decided change (a companion's, a purge) in this transaction. */
  apply(change: StoreChange): void {
    this.applied?.push(change);
    this.applier.apply(change);
  }

  /**
   * Forgets idempotency results expired at `now` and drops events past `retention`. A purge
   * that drops nothing is not listed: replicated, it would be a message every instance applies for nothing.
   */
  purge(now: number, retention: EventRetention | undefined): MaintenanceResult {
    const change: PurgeChange = { kind: 'purge', now, ...(retention && { retention }) };
    const result = this.applier.apply(change);
    if (result.idempotencyKeys > 0 || result.events > 0) this.applied?.push(change);
    return result;
  }

  /**
   * Runs `write` at most once per idempotency key of `context` (when it has one): a
   * retry with the same input gets the first result back, with other input a conflict.
   */
  idempotent<R>(definition: EntityDefinition, context: WriteContext, input: unknown, write: () => R): R {
    if (context.idempotencyKey === undefined) return write();
    checkWriteContext(definition.name, context);
    const scope = { entity: definition.name, actor: context.actor ?? '', key: context.idempotencyKey };
    const fingerprint = fingerprintOf(input);
    const now = Date.now();
    const remembered = this.idempotency.recall(scope.entity, scope.actor, scope.key, fingerprint, now);
    if (remembered) return remembered.result as R;
    const result = write();
    this.apply({ kind: 'remember', ...scope, fingerprint, result, expiresAt: now + this.idempotency.ttl });
    return result;
  }

  /** The record with this id; none for an id no record can have, which may not even fit an lmdb key. */
  get(definition: EntityDefinition, id: string): StoredRecord | undefined {
    return isRecordId(id) ? this.tablesOf(definition).records.get(id) : undefined;
  }

  create(definition: EntityDefinition, input: unknown, context: WriteContext = {}): StoredRecord {
    const data = checkedInput(definition, input, 'create');
    return this.commit(definition, 'created', nextRecordId(), 1, data, context)!;
  }

  /**
   * Stores a record exported from a store (the command line's `import`): its id, version,
   * `createdAt` and `updatedAt` are kept and its fields are checked as a create's, except that
   * a required field may be missing (as in records stored before it was required) and, in a
   * record that names its version (an export's), no default fills an optional field it lacks. It goes
   * through the log as a `created` event whose data also carries the two times, so history,
   * audit and replay see it like any other create. A record with `deletedAt` (of a `softDelete`
   * entity) is stored among the deleted records, through a soft `deleted` event carrying that
   * time. Fails if the id is taken.
   */
  importRecord(definition: EntityDefinition, record: unknown, context: WriteContext = {}): StoredRecord {
    const { id, version: at, exported, input, createdAt, updatedAt, deletedAt } = importedRecord(definition, record);
    if (this.get(definition, id) || this.getDeleted(definition, id)) {
      throw new InvalidRecordException(definition.name, [`id ${id} is already taken`]);
    }
    // A record deleted for good leaves its history, delete mark and past versions under its id, which another would take over.
    if (this.tablesOf(definition).history.holdsAny(id)) {
      throw new InvalidRecordException(definition.name, [
        `id ${id} belonged to a record deleted from this store, whose history and past versions stay under it`,
      ]);
    }
    const data = { ...checkedInput(definition, input, exported ? 'restore' : 'import'), createdAt, updatedAt };
    // An export may hold a record before the one it refers to: the import checks references once all is in.
    if (deletedAt === undefined) return this.commit(definition, 'created', id, at, data, context, { checks: 'unique' })!;
    // A deleted record gave up its unique values and released its references when it was deleted.
    const created = this.commit(definition, 'created', id, at, data, context, { checks: 'none' })!;
    this.commit(definition, 'deleted', id, at, { deletedAt }, context, { soft: true, checks: 'none' });
    return created;
  }

  /** Replaces the record's fields; a replace that changes nothing writes nothing and returns the record as it is. */
  replace(definition: EntityDefinition, id: string, input: unknown, context: WriteContext = {}): StoredRecord {
    const before = currentOrFail(this, definition, id, context);
    const unseen = unseenIn(definition, context, before);
    checkOwnerKept(definition, context, input, before, unseen?.record ?? false);
    const kept: Record<string, unknown> = {};
    const given = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : undefined;
    if (unseen?.any) {
      for (const { name } of definition.fields) if (unseen.has(name) && before[name] !== undefined && given?.[name] === undefined) kept[name] = before[name];
      // The stored value stands whatever was sent: refused when it differs and taken when it matches, it would confirm a guess.
      for (const name of unseenImmutables(definition, unseen, given)) kept[name] = before[name];
    }
    for (const field of context.preserveFields ?? []) if (before[field] !== undefined) kept[field] = before[field];
    const merged = given ? { ...given, ...kept } : input;
    const data = checkedInput(definition, merged, context.restoresVersion ? 'revert' : 'replace', before);
    // Whether the version moved would tell a caller about values it cannot see (a default filled into a field it left out, or not).
    if (!context.writeEvenIfUnchanged && !unseen?.any && replacesNothing(definition, data, before)) {
      // A context that would fail the write fails it though nothing is written.
      checkWriteContext(definition.name, context);
      return before;
    }
    return this.commit(definition, 'replaced', id, before.version + 1, data, context)!;
  }

  /** Changes the given fields; a change that changes nothing writes nothing and returns the record as it is. */
  update(definition: EntityDefinition, id: string, patch: unknown, context: WriteContext = {}): StoredRecord {
    const before = currentOrFail(this, definition, id, context);
    const unseen = unseenIn(definition, context, before);
    checkOwnerKept(definition, context, patch, before, unseen?.record ?? false);
    if (unseen?.any) refuseUnseenImmutables(definition, unseen, patch);
    const data = checkedInput(definition, patch, 'update', before);
    for (const [field, value] of Object.entries(data)) {
      if ((value ?? undefined) === before[field]) delete data[field];
    }
    if (Object.keys(data).length === 0 && !context.writeEvenIfUnchanged && !unseen?.record) {
      checkWriteContext(definition.name, context);
      return before;
    }
    return this.commit(definition, 'updated', id, before.version + 1, data, context)!;
  }

  /**
   * Removes from a record the fields its entity no longer declares (the command line's
   * `drop-fields`), as an `updated` event that clears them: the log, the version, the audit
   * trail and a replay see it as any update. Returns the fields removed; a record without
   * such fields is left as it is.
   */
  dropUndeclaredFields(definition: EntityDefinition, id: string, context: WriteContext = {}): string[] {
    const before = currentOrFail(this, definition, id, context);
    const fields = undeclaredFields(definition, before);
    if (fields.length > 0) this.commit(definition, 'updated', id, before.version + 1, Object.fromEntries(fields.map((field) => [field, null])), context);
    return fields;
  }

  /**
   * The same for a soft-deleted record. No event changes a deleted record, so it is restored,
   * changed and deleted again in this transaction, keeping its `deletedAt`; its unique values
   * and references are left as they were. Returns the fields removed.
   */
  dropUndeclaredFieldsOfDeleted(definition: EntityDefinition, id: string, context: WriteContext = {}): string[] {
    const deleted = this.getDeleted(definition, id);
    if (!deleted) return [];
    const record = withoutDeletedAt(deleted);
    const fields = undeclaredFields(definition, record);
    if (fields.length > 0) updateDeleted(this, definition, deleted, Object.fromEntries(fields.map((field) => [field, null])), context);
    return fields;
  }

  /**
   * Stores what a schema migration made of a record (`migrateRecord`) as one update event
   * that names the version reached; its unique values and references are checked as any
   * update's are.
   */
  migrate(definition: EntityDefinition, id: string, migration: RecordMigration, to: number, context: WriteContext = {}): void {
    const before = currentOrFail(this, definition, id, context);
    this.commit(definition, 'updated', id, before.version + 1, migration.data, context, { migration: { to, renamed: migration.renamed } });
  }

  /** The same for a soft-deleted record: restored, changed and deleted again, keeping its `deletedAt` (see `dropUndeclaredFieldsOfDeleted`). */
  migrateDeleted(definition: EntityDefinition, id: string, migration: RecordMigration, to: number, context: WriteContext = {}): void {
    const deleted = this.getDeleted(definition, id);
    if (deleted) updateDeleted(this, definition, deleted, migration.data, context, { to, renamed: migration.renamed });
  }

  /** Deletes a record: for an entity with `softDelete`, it is kept among its deleted records, restorable. */
  delete(definition: EntityDefinition, id: string, context: WriteContext = {}): StoredRecord {
    const before = currentOrFail(this, definition, id, context);
    this.commit(definition, 'deleted', id, before.version, undefined, context, { soft: definition.softDelete });
    return before;
  }

  /** The soft-deleted record with this id, if any. */
  getDeleted(definition: EntityDefinition, id: string): DeletedRecord | undefined {
    return isRecordId(id) ? this.tablesOf(definition).deleted?.get(id) : undefined;
  }

  /**
   * Brings a soft-deleted record back at its next version, with the values it had. Fails with
   * `RecordNotFoundException` when no deleted record has the id, and with a unique conflict
   * when another record took one of its unique values since.
   */
  restoreDeleted(definition: EntityDefinition, id: string, context: WriteContext = {}): StoredRecord {
    const deleted = deletedOrFail(this, definition, id, context);
    return this.commit(definition, 'restored', id, deleted.version + 1, undefined, context, { prior: withoutDeletedAt(deleted) })!;
  }

  /**
   * Removes a record for good: a soft-deleted one from the deleted records, a live one at once
   * (a final delete, as on an entity without `softDelete`). Returns the record removed.
   */
  purgeRecord(definition: EntityDefinition, id: string, context: WriteContext = {}): StoredRecord {
    if (this.get(definition, id)) {
      const before = currentOrFail(this, definition, id, context);
      this.commit(definition, 'deleted', id, before.version, undefined, context);
      return before;
    }
    const deleted = deletedOrFail(this, definition, id, context);
    this.commit(definition, 'purged', id, deleted.version, undefined, context);
    return deleted;
  }

  /**
   * Builds the event of a change this transaction decided, checks it against the current
   * state (see `CommitOptions`) and applies it. For the transaction and its helpers only:
   * callers change records through the methods above, which check their input first.
   */
  commit(
    definition: EntityDefinition,
    type: EntityEventType,
    id: string,
    version: number,
    data: Record<string, unknown> | undefined,
    context: WriteContext,
    { soft = false, prior, checks = 'all', migration }: CommitOptions = {},
  ): StoredRecord | undefined {
    checkWriteContext(definition.name, context);
    // Past 2^53 a version's +1 is lost: two states would share a version, and an ETag.
    if (!Number.isSafeInteger(version)) throw new InvalidRecordException(definition.name, [`${id} is at the highest version a record can reach`]);
    const tables = this.tablesOf(definition);
    const before = tables.records.get(id);
    // A created record has no change before it (an import checked that its id is free).
    const notBefore = type === 'created' ? 0 : lastChangeOf(before ?? tables.deleted?.get(id));
    const event = decidedEvent(definition.name, type, id, version, data, context, { soft, migration }, notBefore);
    // Checked before anything is written: a transaction callback that catches the conflict
    // and carries on must find nothing of this write stored.
    const after = nextState(prior ?? before, event);
    if (after) {
      if (checks !== 'none') checkUnique(tables, after, before);
      // A restored record's references are checked anew, at the end: what it referred to may be gone since, or restored after it.
      if (checks === 'all' && type === 'restored') this.restored.push({ definition, id });
      else if (checks === 'all') checkReferences(this, this.relations, definition, after, before);
    }
    if (type === 'deleted' && checks === 'all') releaseReferences(this, this.relations, this.tablesOf, definition, id, context);
    const change: StoreChange = { kind: 'event', event };
    this.applied?.push(change);
    this.applier.apply(change, { before });
    return after;
  }
}

/** Runs a write's callback on `tx`, then what its transaction checks at its end. */
export function finished<R>(tx: WriteTransaction, write: (tx: WriteTransaction) => R): R {
  const result = write(tx);
  tx.finish();
  return result;
}

/**
 * When a record last changed (ms since the epoch): its last update or its soft delete, whichever
 * is later (a migration changing a soft-deleted record dates that after the delete); 0 for none.
 */
function lastChangeOf(record: StoredRecord | DeletedRecord | undefined): number {
  if (!record) return 0;
  const updated = Date.parse(record.updatedAt);
  const deleted = Date.parse((record as Partial<DeletedRecord>).deletedAt ?? '');
  return Math.max(Number.isNaN(updated) ? 0 : updated, Number.isNaN(deleted) ? 0 : deleted);
}
