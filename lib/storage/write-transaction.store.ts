import { isoDateOf } from '../common/date-value.util.js';
import { nextEventId } from './event-id.util.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { DeletedRecord, EntityEvent, EntityEventType, StoredRecord } from './entity-event.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import type { ChangeApplier } from './change-applier.service.js';
import type { EventRetention } from '../common/storage-options.interface.js';
import type { ChangeApplying } from './entity-projection.interface.js';
import { nextState, withoutDeletedAt } from './event-applier.util.js';
import { fingerprintOf, type IdempotencyStore } from './idempotency.store.js';
import type { MaintenanceResult } from './maintenance-result.interface.js';
import type { PurgeChange, StoreChange } from './store-change.interface.js';
import { afterPrefix, indexKeyOf, MISSING, sameKey, type IndexKey } from './index-key.util.js';
import type { EntityRelations } from './entity-registry.service.js';
import { InvalidRecordException } from './invalid-record.exception.js';
import { ReferenceConflictException } from './reference-conflict.exception.js';
import { isRecordId, nextRecordId } from './record-id.util.js';
import { normalizeRecordInput } from './record-input.util.js';
import type { RecordMigration } from './record-migration.util.js';
import { checkWriteContext } from './write-context.util.js';
import { RecordNotFoundException } from './record-not-found.exception.js';
import { undeclaredFields } from './undeclared-fields.util.js';
import { UniqueConstraintException } from './unique-constraint.exception.js';
import { VersionConflictException } from './version-conflict.exception.js';
import type { WriteContext } from './write-context.interface.js';

/** Beyond this many records referring to it, a refused delete says "more than". */
const RESTRICT_COUNT_LIMIT = 100;

/**
 * The changes one LMDB write transaction makes. Every method is synchronous and runs
 * inside the transaction: it checks the change against the current state, decides it
 * (ids, times, versions) and applies it through the store's one `ChangeApplier`, so a check
 * and the write it guards cannot be separated by another writer, in this process or another.
 */
export class WriteTransaction implements ChangeApplying {
  /** Records whose delete is under way in this transaction (`entity\0id`): a cycle of cascades ends at them. */
  private readonly deleting = new Set<string>();

  constructor(
    private readonly tablesOf: (definition: EntityDefinition) => EntityTables,
    private readonly relations: EntityRelations,
    private readonly applier: ChangeApplier,
    private readonly idempotency: IdempotencyStore,
    /** Where the changes applied are listed, in order, when the caller ships them (replication). */
    private readonly applied?: StoreChange[],
  ) {}

  /** Applies a decided change (a companion's, a purge) in this transaction. */
  apply(change: StoreChange): void {
    this.applied?.push(change);
    this.applier.apply(change);
  }

  /** Forgets idempotency results expired at `now` and drops events past `retention`. */
  purge(now: number, retention: EventRetention | undefined): MaintenanceResult {
    const change: PurgeChange = { kind: 'purge', now, ...(retention && { retention }) };
    this.applied?.push(change);
    return this.applier.apply(change);
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
    const data = this.checked(definition, input, 'create');
    return this.commit(definition, 'created', nextRecordId(), 1, data, context)!;
  }

  /**
   * Stores a record exported from a store (the command line's `import`): its id, version,
   * `createdAt` and `updatedAt` are kept and its fields are checked as a create's. It goes
   * through the log as a `created` event whose data also carries the two times, so history,
   * audit and replay see it like any other create. A record with `deletedAt` (of a `softDelete`
   * entity) is stored among the deleted records, through a soft `deleted` event carrying that
   * time. Fails if the id is taken.
   */
  importRecord(definition: EntityDefinition, record: unknown, context: WriteContext = {}): StoredRecord {
    const { deletedAt, ...kept } = (record ?? {}) as Partial<Record<string, unknown>>;
    const { id, version, createdAt, updatedAt } = kept;
    const problems: string[] = [];
    if (!isRecordId(id)) problems.push('id must be 1 to 128 letters, digits, "-" or "_"');
    if (version !== undefined && (!Number.isInteger(version) || (version as number) < 1)) problems.push('version must be a positive integer');
    const times = [createdAt, updatedAt].map((time, i) => restoredTime(time, i === 0 ? 'createdAt' : 'updatedAt', problems));
    const deletedTime = deletedAt === undefined ? undefined : isoDateOf(deletedAt);
    if (deletedAt !== undefined && !definition.softDelete) problems.push(`deletedAt: ${definition.name} keeps no deleted records (no softDelete)`);
    else if (deletedAt !== undefined && deletedTime === undefined) problems.push('deletedAt must be an ISO 8601 date');
    if (problems.length > 0) throw new InvalidRecordException(definition.name, problems);
    if (this.get(definition, id as string) || this.getDeleted(definition, id as string)) {
      throw new InvalidRecordException(definition.name, [`id ${String(id)} is already taken`]);
    }
    const data = {
      ...this.checked(definition, record === null || typeof record !== 'object' ? record : kept, 'create'),
      createdAt: times[0],
      updatedAt: times[1],
    };
    const at = (version as number | undefined) ?? 1;
    // An export may hold a record before the one it refers to: the import checks references once all is in.
    if (deletedTime === undefined) return this.commit(definition, 'created', id as string, at, data, context, { checks: 'unique' })!;
    // A deleted record gave up its unique values and released its references when it was deleted.
    const created = this.commit(definition, 'created', id as string, at, data, context, { checks: 'none' })!;
    this.commit(definition, 'deleted', id as string, at, { deletedAt: deletedTime }, context, { soft: true, checks: 'none' });
    return created;
  }

  replace(definition: EntityDefinition, id: string, input: unknown, context: WriteContext = {}): StoredRecord {
    const before = this.current(definition, id, context);
    const kept: Record<string, unknown> = {};
    for (const field of context.preserveFields ?? []) if (before[field] !== undefined) kept[field] = before[field];
    const merged = input !== null && typeof input === 'object' && !Array.isArray(input) ? { ...input, ...kept } : input;
    const data = this.checked(definition, merged, 'replace', before);
    return this.commit(definition, 'replaced', id, before.version + 1, data, context)!;
  }

  /** Changes the given fields; a change that changes nothing writes nothing and returns the record as it is. */
  update(definition: EntityDefinition, id: string, patch: unknown, context: WriteContext = {}): StoredRecord {
    const before = this.current(definition, id, context);
    const data = this.checked(definition, patch, 'update', before);
    for (const [field, value] of Object.entries(data)) {
      if ((value ?? undefined) === before[field]) delete data[field];
    }
    if (Object.keys(data).length === 0 && !context.writeEvenIfUnchanged) return before;
    return this.commit(definition, 'updated', id, before.version + 1, data, context)!;
  }

  /**
   * Removes from a record the fields its entity no longer declares (the command line's
   * `drop-fields`), as an `updated` event that clears them: the log, the version, the audit
   * trail and a replay see it as any update. Returns the fields removed; a record without
   * such fields is left as it is.
   */
  dropUndeclaredFields(definition: EntityDefinition, id: string, context: WriteContext = {}): string[] {
    const before = this.current(definition, id, context);
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
    if (fields.length > 0) this.updateDeleted(definition, deleted, Object.fromEntries(fields.map((field) => [field, null])), context);
    return fields;
  }

  /**
   * Stores what a schema migration made of a record (`migrateRecord`) as one update event
   * that names the version reached; its unique values and references are checked as any
   * update's are.
   */
  migrate(definition: EntityDefinition, id: string, migration: RecordMigration, to: number, context: WriteContext = {}): void {
    const before = this.current(definition, id, context);
    this.commit(definition, 'updated', id, before.version + 1, migration.data, context, { migration: { to, renamed: migration.renamed } });
  }

  /** The same for a soft-deleted record: restored, changed and deleted again, keeping its `deletedAt` (see `dropUndeclaredFieldsOfDeleted`). */
  migrateDeleted(definition: EntityDefinition, id: string, migration: RecordMigration, to: number, context: WriteContext = {}): void {
    const deleted = this.getDeleted(definition, id);
    if (deleted) this.updateDeleted(definition, deleted, migration.data, context, { to, renamed: migration.renamed });
  }

  /**
   * Changes a soft-deleted record, which no event can: restored, updated with `data` and
   * deleted again in this transaction, keeping its `deletedAt`; its unique values and
   * references are left as they were when it was deleted.
   */
  private updateDeleted(
    definition: EntityDefinition,
    deleted: DeletedRecord,
    data: Record<string, unknown>,
    context: WriteContext,
    migration?: { to: number; renamed?: Record<string, string> },
  ): void {
    const record = withoutDeletedAt(deleted);
    const settled = { checks: 'none' as const };
    this.commit(definition, 'restored', record.id, record.version + 1, undefined, context, { ...settled, prior: record });
    this.commit(definition, 'updated', record.id, record.version + 2, data, context, { ...settled, ...(migration && { migration }) });
    this.commit(definition, 'deleted', record.id, record.version + 2, { deletedAt: deleted.deletedAt }, context, { ...settled, soft: true });
  }

  /** Deletes a record: for an entity with `softDelete`, it is kept among its deleted records, restorable. */
  delete(definition: EntityDefinition, id: string, context: WriteContext = {}): StoredRecord {
    const before = this.current(definition, id, context);
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
    const deleted = this.deletedOrFail(definition, id, context);
    return this.commit(definition, 'restored', id, deleted.version + 1, undefined, context, { prior: withoutDeletedAt(deleted) })!;
  }

  /**
   * Removes a record for good: a soft-deleted one from the deleted records, a live one at once
   * (a final delete, as on an entity without `softDelete`). Returns the record removed.
   */
  purgeRecord(definition: EntityDefinition, id: string, context: WriteContext = {}): StoredRecord {
    if (this.get(definition, id)) {
      const before = this.current(definition, id, context);
      this.commit(definition, 'deleted', id, before.version, undefined, context);
      return before;
    }
    const deleted = this.deletedOrFail(definition, id, context);
    this.commit(definition, 'purged', id, deleted.version, undefined, context);
    return deleted;
  }

  private deletedOrFail(definition: EntityDefinition, id: string, context: WriteContext): DeletedRecord {
    const deleted = this.getDeleted(definition, id);
    if (!deleted) throw new RecordNotFoundException(definition.name, String(id));
    this.checkCurrent(definition, deleted, context);
    return deleted;
  }

  private current(definition: EntityDefinition, id: string, context: WriteContext): StoredRecord {
    const record = this.get(definition, id);
    if (!record) throw new RecordNotFoundException(definition.name, String(id));
    this.checkCurrent(definition, record, context);
    return record;
  }

  /** The write's record-level access check and expected version, against the record as it is. */
  private checkCurrent(definition: EntityDefinition, record: StoredRecord, context: WriteContext): void {
    context.authorize?.(record);
    if (context.expectedVersion !== undefined && context.expectedVersion !== record.version) {
      throw new VersionConflictException(definition.name, record.id, context.expectedVersion, record.version);
    }
  }

  private checked(definition: EntityDefinition, input: unknown, mode: 'create' | 'replace' | 'update', before?: StoredRecord): Record<string, unknown> {
    const { data, problems } = normalizeRecordInput(definition, input, mode);
    if (before) {
      for (const field of definition.fields) {
        if (!field.immutable) continue;
        const changes = mode === 'replace' || Object.prototype.hasOwnProperty.call(data, field.name);
        if (changes && (data[field.name] ?? undefined) !== before[field.name]) problems.push(`${field.name} is immutable`);
      }
    }
    if (problems.length > 0) throw new InvalidRecordException(definition.name, problems);
    return data;
  }

  private commit(
    definition: EntityDefinition,
    type: EntityEventType,
    id: string,
    version: number,
    data: Record<string, unknown> | undefined,
    context: WriteContext,
    /**
     * `soft`: a delete that keeps the record; `prior`: the state the event starts from when not
     * the live record (a restore's); `checks`: `'unique'` for an imported record, whose
     * references the import checks once all is in, `'none'` for a deleted record stored or
     * changed as it was, its unique values freed and its references released when it was deleted;
     * `migration`: the schema version a migration's update brings the record to, and what it renamed.
     */
    {
      soft = false,
      prior,
      checks = 'all',
      migration,
    }: { soft?: boolean; prior?: StoredRecord; checks?: 'all' | 'unique' | 'none'; migration?: { to: number; renamed?: Record<string, string> } } = {},
  ): StoredRecord | undefined {
    checkWriteContext(definition.name, context);
    const event: Omit<EntityEvent, 'seq'> = {
      eventId: nextEventId(),
      entity: definition.name,
      id,
      type,
      version,
      ...(soft && { soft: true as const }),
      ...(data && { data }),
      ...(migration && { migration: migration.to }),
      ...(migration?.renamed && { renamed: migration.renamed }),
      ...(context.actor !== undefined && { actor: context.actor }),
      at: new Date().toISOString(),
      ...(context.idempotencyKey !== undefined && { idempotencyKey: context.idempotencyKey }),
      ...(context.request && { request: context.request }),
    };
    const tables = this.tablesOf(definition);
    // Checked before anything is written: a transaction callback that catches the conflict
    // and carries on must find nothing of this write stored.
    const before = tables.records.get(id);
    const after = nextState(prior ?? before, event);
    if (after) {
      if (checks !== 'none') this.checkUnique(tables, after, before);
      // A restored record's references are checked anew: what it referred to may be gone since.
      if (checks === 'all') this.checkReferences(definition, after, type === 'restored' ? undefined : before);
    }
    if (type === 'deleted' && checks === 'all') this.releaseReferences(definition, id, context);
    const change: StoreChange = { kind: 'event', event };
    this.applied?.push(change);
    this.applier.apply(change, { before });
    return after;
  }

  /** Refuses a record whose `@Reference` fields name records that do not exist; a value the change leaves as it was is skipped. */
  private checkReferences(definition: EntityDefinition, record: StoredRecord, before: StoredRecord | undefined): void {
    for (const reference of definition.references) {
      const value = record[reference.field];
      if (value === undefined || (before !== undefined && before[reference.field] === value)) continue;
      const target = this.relations.targetOf(definition, reference);
      if (typeof value !== 'string' || !this.get(target, value)) {
        throw new ReferenceConflictException(definition.name, `${reference.field} refers to no ${target.name} record ${JSON.stringify(value)}`);
      }
    }
  }

  /**
   * Before a record is deleted, applies each `onDelete` of the references to it: refuses the
   * delete while a record refers to it through a `restrict` one, deletes the records referring
   * through a `cascade` one and clears the field of those referring through a `setNull` one,
   * each as its own event in this transaction, acting as the delete's actor.
   */
  private releaseReferences(target: EntityDefinition, id: string, context: WriteContext): void {
    const incoming = this.relations.referencesTo(target);
    if (incoming.length === 0) return;
    const key = `${target.name}\0${id}`;
    this.deleting.add(key);
    try {
      const inherited: WriteContext = { ...(context.actor !== undefined && { actor: context.actor }), ...(context.request && { request: context.request }) };
      for (const { source, reference } of incoming) {
        const limit = reference.onDelete === 'restrict' ? RESTRICT_COUNT_LIMIT + 1 : undefined;
        const referring = this.referringIds(source, reference.field, id, limit).filter((other) => !this.deleting.has(`${source.name}\0${other}`));
        if (referring.length === 0) continue;
        if (reference.onDelete === 'restrict') {
          const count = referring.length > RESTRICT_COUNT_LIMIT ? `more than ${RESTRICT_COUNT_LIMIT}` : String(referring.length);
          throw new ReferenceConflictException(
            target.name,
            `record ${id} is referred to by ${count} ${source.name} record(s) through ${reference.field}, whose @Reference restricts its delete`,
          );
        }
        for (const other of referring) {
          // An earlier cascade of this delete may have taken it already.
          const record = this.get(source, other);
          if (!record) continue;
          if (reference.onDelete === 'cascade') this.delete(source, other, inherited);
          else this.commit(source, 'updated', other, record.version + 1, { [reference.field]: null }, inherited);
        }
      }
    } finally {
      this.deleting.delete(key);
    }
  }

  /** Ids of the live records of `source` whose `field` holds `id`, read from an index the field leads. */
  private referringIds(source: EntityDefinition, field: string, id: string, limit?: number): string[] {
    const { db } = this.tablesOf(source).indexes.find(({ index }) => index.fields[0] === field)!;
    const ids: string[] = [];
    const keys = db.getKeys({ start: [id], end: afterPrefix([id]), ...(limit !== undefined && { limit }) }) as Iterable<unknown[]>;
    for (const key of keys) ids.push(key[key.length - 1] as string);
    return ids;
  }

  /**
   * Refuses a record whose unique index values another record holds. An index whose values the
   * change leaves as they were is skipped: the entry under them is the record's own.
   */
  private checkUnique(tables: EntityTables, record: StoredRecord, before: StoredRecord | undefined): void {
    for (const { index, db } of tables.indexes) {
      if (!index.unique) continue;
      const values = indexKeyOf(index, record, record.id).slice(0, -1);
      if (values.includes(MISSING)) continue;
      if (before && sameKey(values, indexKeyOf(index, before, before.id).slice(0, -1))) continue;
      for (const key of db.getKeys({ start: values as IndexKey, end: afterPrefix(values), limit: 2 }) as Iterable<unknown[]>) {
        if (key[key.length - 1] !== record.id) {
          throw new UniqueConstraintException(tables.definition.name, index.name, index.fields);
        }
      }
    }
  }
}

/** A restored record's `createdAt` or `updatedAt` in stored form; now when absent. */
function restoredTime(value: unknown, field: string, problems: string[]): string {
  if (value === undefined) return new Date().toISOString();
  const stored = isoDateOf(value);
  if (stored !== undefined) return stored;
  problems.push(`${field} must be an ISO 8601 date`);
  return '';
}
