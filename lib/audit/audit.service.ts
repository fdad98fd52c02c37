import { encodeTime } from 'ulid';
import type { Database } from 'lmdb';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { storableTimeOf } from '../common/date-value.util.js';
import { STORAGE_NAME } from '../common/metadata.constants.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../common/page-limits.constants.js';
import { InvalidQueryException } from '../query/invalid-query.exception.js';
import type { EntityEvent, RequestMeta, StoredRecord } from '../storage/entity-event.interface.js';
import { afterPrefix, LOWEST_KEY, type IndexKey } from '../storage/index-key.util.js';
import type { ChangeWriter, ProjectionCheck } from '../storage/entity-projection.interface.js';
import type { EventLog } from '../storage/event-log.store.js';
import type { LmdbEnvironment } from '../storage/lmdb-environment.store.js';
import { auditListingKey, historyStartOf, listedAuditId, RECORD_LISTING_DB } from '../storage/record-listing.util.js';
import type { CompanionChange } from '../storage/store-change.interface.js';
import { isRecordId } from '../storage/record-id.util.js';
import { timedEventId, writtenAt } from '../storage/event-id.util.js';
import { ULID } from '../storage/ulid.util.js';
import { ACTOR } from '../storage/write-context.util.js';
import type { AuditAction, AuditEntry, AuditPage, AuditQuery } from './audit-entry.interface.js';
import { HIDDEN_VALUE } from './audit-mask.constants.js';

const ACTIONS: Readonly<Record<EntityEvent['type'], AuditAction>> = {
  created: 'create',
  replaced: 'replace',
  updated: 'update',
  deleted: 'delete',
  restored: 'restore',
  purged: 'purge',
};

/** What the trail calls a change: on an entity with soft delete, a delete that keeps nothing is a purge. */
function actionOf(definition: EntityDefinition, event: EntityEvent): AuditAction {
  return event.type === 'deleted' && definition.softDelete && !event.soft ? 'purge' : ACTIONS[event.type];
}

/** A refused write, entered in the trail with its id and time decided. */
interface DeniedChange {
  kind: 'audit.denied';
  entry: AuditEntry;
}

/**
 * The audit trail of every `@Audited` entity: one entry per change, written by
 * `applyEvent` in the change's transaction, plus entries for refused writes. Entries are
 * keyed by a time-ordered id, with secondary keys per record and per actor, so each
 * query of `AuditService.find` is a range read (of a record's whole listing, for a query by
 * record). A change's entry is listed under its record next to the change's event (see
 * `RECORD_LISTING_DB`); a refused write's, and every entry of a store before format 5, in
 * `_audit.byRecord`. Inject it as `AuditService`.
 */
export class AuditService {
  /** @internal */
  readonly databaseCount = 3;
  /** @internal */
  readonly changePrefix = 'audit';
  private writer?: ChangeWriter;

  /** @internal */
  constructor(private readonly environment: LmdbEnvironment) {}

  /** @internal */
  open(writer: ChangeWriter): void {
    this.environment.database('_audit');
    this.environment.database('_audit.byRecord');
    this.environment.database('_audit.byActor');
    this.writer = writer;
  }

  /** @internal */
  holdsState(): boolean {
    return this.entries.getKeysCount({ limit: 1 }) > 0;
  }

  /** @internal */
  follows(definition: EntityDefinition): boolean {
    return definition.audited;
  }

  /** @internal */
  apply(definition: EntityDefinition, event: EntityEvent, before: StoredRecord | undefined, after: StoredRecord | undefined): void {
    this.put(
      {
        auditId: event.eventId,
        entity: event.entity,
        id: event.id,
        action: actionOf(definition, event),
        ...(event.actor !== undefined && { actor: event.actor }),
        // When it was written, as its id says: the trail is searched by id (`find`'s from and to).
        at: new Date(writtenAt(event)).toISOString(),
        version: event.version,
        ...(event.migration !== undefined && { migration: event.migration }),
        changes: changesBetween(definition, before, after),
        ...(event.request && { request: event.request }),
      },
      event.seq,
    );
  }

  /** Records a refused write; durable when the promise resolves. */
  async recordDenied(entry: { entity: string; id: string; actor?: string; request?: RequestMeta }): Promise<void> {
    if (!this.writer) throw new Error('the entity store is not open yet');
    const { id: auditId, at } = timedEventId();
    const denied: DeniedChange = {
      kind: 'audit.denied',
      entry: {
        auditId,
        entity: entry.entity,
        id: entry.id,
        action: 'denied',
        ...(entry.actor !== undefined && { actor: entry.actor }),
        at,
        changes: {},
        ...(entry.request && { request: entry.request }),
      },
    };
    await this.writer.write((tx) => tx.apply(denied));
  }

  /**
   * Stores the entry of a refused write.
   * @internal
   */
  applyChange(change: CompanionChange): void {
    this.put((change as DeniedChange).entry);
  }

  /** Entries matching every condition of `query`, oldest first, one page at a time. */
  async find(query: AuditQuery = {}): Promise<AuditPage> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new InvalidQueryException(`limit must be an integer from 1 to ${MAX_LIMIT}`);
    if (query.id !== undefined && query.entity === undefined) throw new InvalidQueryException('an audit query by id needs the entity');
    // A cursor is the id of the last entry of the page before (a ULID, as event ids): anything else was never one.
    // `null`, a last page's nextCursor, is no cursor: a loop may start from it.
    const after = query.cursor ?? undefined;
    if (after !== undefined && (typeof after !== 'string' || !ULID.test(after)))
      throw new InvalidQueryException('cursor must be the nextCursor of the page before');
    const from = query.from === undefined ? undefined : encodeTime(timeOf(query.from, 'from'), 10);
    const to = query.to === undefined ? undefined : encodeTime(timeOf(query.to, 'to'), 10);
    if (!couldMatch(query.entity, query.id, query.actor)) return { items: [], nextCursor: null };
    const items: AuditEntry[] = [];
    for (const auditId of this.candidates(query, from, after)) {
      if (after !== undefined && auditId <= after) continue;
      if (to !== undefined && auditId >= to) {
        if (query.id === undefined && query.actor === undefined) break;
        continue;
      }
      if (from !== undefined && auditId < from) continue;
      const entry = this.entries.get(auditId);
      if (!entry) continue;
      if (query.entity !== undefined && entry.entity !== query.entity) continue;
      if (query.actor !== undefined && entry.actor !== query.actor) continue;
      items.push(entry);
      if (items.length > limit) break;
    }
    const page = items.slice(0, limit);
    return { items: page, nextCursor: items.length > limit ? page[page.length - 1]!.auditId : null };
  }

  /** Every entry of one record, oldest first. */
  async forRecord(entity: string, id: string): Promise<AuditEntry[]> {
    if (!couldMatch(entity, id, undefined)) return [];
    const entries: AuditEntry[] = [];
    for (const auditId of this.recordEntryIds(entity, id)) {
      const entry = this.entries.get(auditId);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  /**
   * The ids of one record's entries from `from` on, oldest first: those listed beside the
   * record's events and those in `_audit.byRecord` (refused writes, entries of older formats),
   * merged. The listing beside the events is in the order of the log, which is not the order of
   * ids written by several processes or replicas, so every page of a record's trail reads all
   * of its keys: a write saves a page for it (see `RECORD_LISTING_DB`).
   */
  private recordEntryIds(entity: string, id: string, from = ''): string[] {
    const prefix = [entity, id];
    const ids: string[] = [];
    for (const key of this.listing.getKeys({ start: prefix, end: historyStartOf(entity, id) }) as Iterable<unknown[]>) {
      const auditId = listedAuditId(key);
      if (auditId !== undefined && auditId >= from) ids.push(auditId);
    }
    for (const key of this.byRecord.getKeys({ start: [...prefix, from], end: afterPrefix(prefix) }) as Iterable<string[]>) ids.push(key[2]!);
    return ids.sort();
  }

  private *candidates(query: AuditQuery, from: string | undefined, after: string | undefined): Generator<string> {
    if (query.entity !== undefined && query.id !== undefined) {
      yield* this.recordEntryIds(query.entity, query.id, after ?? from);
    } else if (query.actor !== undefined) {
      for (const key of this.byActor.getKeys({ start: [query.actor, after ?? from ?? ''], end: afterPrefix([query.actor]) }) as Iterable<string[]>)
        yield key[1]!;
    } else {
      for (const key of this.entries.getKeys((after ?? from) ? { start: after ?? from } : {})) yield key;
    }
  }

  /**
   * For `verify`: every listing (beside a change's event, in `_audit.byRecord`, under an
   * actor) names an entry of that record or actor, and none is listed both beside its event
   * and in `_audit.byRecord`; an entry listed beside an event the log still holds is that
   * event's; there are as many record listings as entries, and each entry with an actor is
   * listed under it. `onEntry` hears each key walked.
   * @internal
   */
  verify(log: EventLog, onEntry: () => void): ProjectionCheck {
    const problems: string[] = [];
    let entries = 0;
    for (const { key, value } of this.entries.getRange({})) {
      entries++;
      onEntry();
      if (value?.auditId !== key) problems.push(`audit entry ${key}: stored under another id (${String(value?.auditId)})`);
      else if (value.actor !== undefined && !this.byActor.doesExist([value.actor, key])) {
        problems.push(`audit entry ${key}: not listed under its actor ${value.actor}`);
      }
    }
    const named = (entity: string, id: string, auditId: string, where: string): void => {
      const entry = this.entries.get(auditId);
      if (!entry) problems.push(`${entity} ${id}: ${where} lists audit entry ${auditId}, which the trail does not hold`);
      else if (entry.entity !== entity || entry.id !== id) problems.push(`${entity} ${id}: ${where} lists audit entry ${auditId}, which is another record's`);
    };
    let listed = 0;
    // A range from no start leaves out the key of the listing's shared msgpack structures.
    for (const key of this.listing.getKeys({}) as Iterable<unknown[]>) {
      onEntry();
      const auditId = listedAuditId(key);
      if (auditId === undefined) continue;
      listed++;
      const [entity, id, seq] = key as [string, string, number];
      named(entity, id, auditId, 'the record listing');
      if (this.byRecord.doesExist([entity, id, auditId]))
        problems.push(`${entity} ${id}: audit entry ${auditId} is listed both beside its change and in _audit.byRecord`);
      // Compacted events are gone while their entries stay listed; two events never share an id.
      const event = log.eventAt(seq);
      if (event && (event.eventId !== auditId || event.entity !== entity || event.id !== id)) {
        problems.push(`${entity} ${id}: audit entry ${auditId} is listed beside event ${seq}, which is another change's`);
      }
    }
    for (const [entity, id, auditId] of this.byRecord.getKeys({ start: LOWEST_KEY }) as Iterable<[string, string, string]>) {
      onEntry();
      listed++;
      named(entity, id, auditId, '_audit.byRecord');
    }
    if (listed !== entries) problems.push(`audit trail: holds ${entries} entries, its record listings name ${listed}`);
    for (const [actor, auditId] of this.byActor.getKeys({ start: LOWEST_KEY }) as Iterable<[string, string]>) {
      onEntry();
      const entry = this.entries.get(auditId);
      if (!entry) problems.push(`audit trail: actor ${actor} is listed with entry ${auditId}, which the trail does not hold`);
      else if (entry.actor !== actor) problems.push(`audit trail: actor ${actor} is listed with entry ${auditId}, which is another actor's`);
    }
    return { counted: 'auditEntries', entries, problems };
  }

  /** Stores an entry; `seq`, the event of the change it records, lists it next to that event. */
  private put(entry: AuditEntry, seq?: number): void {
    this.entries.putSync(entry.auditId, entry);
    if (seq === undefined) this.byRecord.putSync([entry.entity, entry.id, entry.auditId], null);
    else this.listing.putSync(auditListingKey(entry.entity, entry.id, seq, entry.auditId), null);
    if (entry.actor !== undefined) this.byActor.putSync([entry.actor, entry.auditId], null);
  }

  private get entries(): Database<AuditEntry, string> {
    return this.environment.database('_audit');
  }

  private get listing(): Database<null, IndexKey> {
    return this.environment.database(RECORD_LISTING_DB);
  }

  private get byRecord(): Database<null, IndexKey> {
    return this.environment.database('_audit.byRecord');
  }

  private get byActor(): Database<null, IndexKey> {
    return this.environment.database('_audit.byActor');
  }
}

/** Field-by-field changes; hidden fields are masked, never copied into the trail. */
function changesBetween(
  definition: EntityDefinition,
  before: StoredRecord | undefined,
  after: StoredRecord | undefined,
): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of definition.fields) {
    const from = before?.[field.name] ?? null;
    const to = after?.[field.name] ?? null;
    if (from === to) continue;
    changes[field.name] = field.hidden ? { from: from === null ? null : HIDDEN_VALUE, to: to === null ? null : HIDDEN_VALUE } : { from, to };
  }
  return changes;
}

function timeOf(value: Date | string, name: string): number {
  const time = storableTimeOf(value);
  // Entry ids start with their time, which a ulid cannot hold before 1970.
  if (time === undefined || time < 0) throw new InvalidQueryException(`${name} must be a valid date`);
  return time;
}

/**
 * Whether an entry could have these values: none can hold an entity name, id or actor that
 * no write accepts, and looking one up would put a key LMDB refuses (too long) into a range.
 */
function couldMatch(entity: string | undefined, id: string | undefined, actor: string | undefined): boolean {
  return (entity === undefined || STORAGE_NAME.test(entity)) && (id === undefined || isRecordId(id)) && (actor === undefined || ACTOR.test(actor));
}
