import type { Database, RangeOptions } from 'lmdb';
import type { HistoryPolicy } from '../metadata/decorator-options.interface.js';
import type { EntityDefinition, FieldDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityEvent, StoredRecord } from './entity-event.interface.js';
import { afterPrefix, type IndexKey, type KeyComponent } from './index-key.util.js';
import { historyStartOf } from './record-listing.util.js';

/** One past (or the current) value of a field. */
export interface FieldHistoryEntry {
  value: unknown;
  version: number;
  at: string;
  actor?: string;
}

/** A record's history: per historized field, newest first. */
export interface RecordHistory {
  id: string;
  fields: Record<string, FieldHistoryEntry[]>;
}

/** Which values to read: of each field (or of `field` alone), the newest `limit` (all without one) of those older than version `before`. */
export interface HistoryPage {
  limit?: number;
  before?: number;
  field?: string;
}

/** Up to this many kept versions, trimming lets lmdb step over them (see `trim`). */
const NATIVE_SKIP_LIMIT = 16;

/** Field names cannot hold `#`, so this key never collides with a field's entries. */
const DELETED = '#deleted';

/** History entries one write transaction moves out of an older store's own database (see `moveLegacyEntries`). */
const MOVE_BATCH = 10_000;

/**
 * Per-field history of one entity, listed under each record in the record listing as
 * `[entity, id, field, version]` (see `RECORD_LISTING_DB`), next to the record's events, so a
 * write adds its history to the leaf page its event listing goes to, and one record's history
 * is one range read, never a scan of the log. Written by `applyEvent` in the same transaction
 * as the change; `{ versions: N }` is trimmed there too. A delete leaves a marker so the
 * history of deleted records stays readable. A store older than format 6 kept it in a database
 * of its own, keyed `[id, field, version]`: read too while it holds entries, until a writer
 * moves them (`moveLegacyEntries`).
 */
export class FieldHistory {
  private readonly historized: readonly FieldDefinition[];
  private readonly prefix: string[];
  /**
   * Every key listed under the entity's records: its events and audit entries, then its history.
   * Passed as a copy: lmdb writes its own flags (`values`, `onlyCount`) into the options it is given.
   */
  private readonly entityRange: RangeOptions;

  constructor(
    private readonly definition: EntityDefinition,
    private readonly listing: Database<FieldHistoryEntry, IndexKey>,
    /** `<entity>.history` of a store older than format 6, while it holds entries. */
    private legacy?: Database<FieldHistoryEntry, IndexKey>,
  ) {
    this.historized = definition.fields.filter((field) => field.history !== 'never');
    this.prefix = [definition.name];
    this.entityRange = { start: this.prefix, end: afterPrefix(this.prefix) };
  }

  /** Records what `event` changed; runs inside the event's write transaction. */
  record(event: EntityEvent, before: StoredRecord | undefined, after: StoredRecord | undefined): void {
    // An entity registered after the store opened moved nothing yet: a record's own entries
    // move before it changes, so restores, renames and trims find all of them in one place.
    if (this.legacy) this.moveLegacyRecord(event.id);
    if (!after) {
      this.listing.putSync(this.key(event.id, DELETED), { value: null, version: event.version, at: event.at, ...actorOf(event) });
      return;
    }
    // A restored record is stored again, so it is no longer marked deleted.
    if (event.type === 'restored') this.listing.removeSync(this.key(event.id, DELETED));
    // A renamed field keeps its past under its new name, and its value moving is no new value.
    const prior = event.renamed && before ? this.renameFields(event.id, event.renamed, before) : before;
    for (const field of this.historized) {
      const value = after[field.name];
      if (value === prior?.[field.name] || (prior === undefined && value === undefined)) continue;
      this.listing.putSync(this.key(event.id, field.name, event.version), {
        value: value ?? null,
        version: event.version,
        // The record's own time: an imported record's is its export's, not the import's.
        at: after.updatedAt,
        ...actorOf(event),
      });
      // A record holds at most one entry per field and version, so nothing is over the limit before it.
      if (typeof field.history === 'object' && event.version > field.history.versions) this.trim(event.id, field.name, field.history.versions);
    }
  }

  /**
   * Moves a record's entries of each renamed field under its new name (trimmed to the new
   * field's policy; dropped when it keeps none) and answers `before` with the values renamed.
   * A name this class does not declare (a step of older code, renamed again by a later one)
   * keeps every entry, as the history of a removed field stays.
   */
  private renameFields(id: string, renamed: Readonly<Record<string, string>>, before: StoredRecord): StoredRecord {
    const moves = Object.entries(renamed).map(([from, to]) => ({
      from,
      to,
      entries: [...this.listing.getRange({ start: this.key(id, from), end: afterPrefix(this.key(id, from)) })],
    }));
    // Read before anything is written: a swap of two fields moves each history once.
    for (const { entries } of moves) for (const { key } of entries) this.listing.removeSync(key);
    const moved: Record<string, unknown> = { ...before };
    for (const { from } of moves) delete moved[from];
    for (const { from, to, entries } of moves) {
      const field = this.definition.fieldsByName.get(to);
      const kept = field ? versionsKept(field.history) : Infinity;
      if (kept > 0) for (const { value } of entries) this.listing.putSync(this.key(id, to, value.version), value);
      if (kept > 0 && kept !== Infinity) this.trim(id, to, kept);
      if (before[from] !== undefined) moved[to] = before[from];
    }
    return moved as StoredRecord;
  }

  /** The history of a record, or `undefined` if no record with this id ever existed; `page` picks the values read. */
  read(id: string, exists: boolean, page: HistoryPage = {}): RecordHistory | undefined {
    const paged = page.limit !== undefined || page.before !== undefined || page.field !== undefined;
    if (paged && !this.legacy) return this.readPage(id, exists, page);
    const fields: Record<string, FieldHistoryEntry[]> = {};
    for (const field of this.historized) if (page.field === undefined || field.name === page.field) fields[field.name] = [];
    let found = exists;
    const ranges = [{ db: this.listing, start: historyStartOf(this.definition.name, id), end: afterPrefix(this.key(id)), at: 2 }];
    if (this.legacy) ranges.push({ db: this.legacy, start: [id], end: afterPrefix([id]), at: 1 });
    for (const { db, start, end, at } of ranges) {
      for (const { key, value } of db.getRange({ start, end })) {
        found = true;
        fields[(key as unknown[])[at] as string]?.push(value);
      }
    }
    // Each range reads oldest first; only entries from two places need merging.
    for (const [name, entries] of Object.entries(fields)) {
      if (this.legacy) entries.sort((a, b) => b.version - a.version);
      else entries.reverse();
      // Paged only here while a move is cut short: rare enough to read the whole history.
      if (page.before !== undefined || page.limit !== undefined)
        fields[name] = entries.filter((entry) => entry.version < (page.before ?? Infinity)).slice(0, page.limit);
    }
    return found ? { id, fields } : undefined;
  }

  /** One range per field, newest first from `before`, stopping at `limit`: a long history costs what the page holds. */
  private readPage(id: string, exists: boolean, { limit, before, field }: HistoryPage): RecordHistory | undefined {
    const fields: Record<string, FieldHistoryEntry[]> = {};
    for (const { name } of this.historized) {
      if (field !== undefined && name !== field) continue;
      // Versions are whole numbers: the newest older than `before` is at most `before - 1`.
      const range: RangeOptions = {
        start: before === undefined ? afterPrefix(this.key(id, name)) : this.key(id, name, before - 1),
        end: this.key(id, name),
        reverse: true,
      };
      if (limit !== undefined) range.limit = limit;
      fields[name] = [...this.listing.getRange(range)].map(({ value }) => value as FieldHistoryEntry);
    }
    return exists || this.holdsAny(id) ? { id, fields } : undefined;
  }

  /** Whether the record has a history entry of `field` (a field a migration renames). */
  holdsField(id: string, field: string): boolean {
    for (const _key of this.listing.getKeys({ start: this.key(id, field), end: afterPrefix(this.key(id, field)), limit: 1 })) return true;
    if (this.legacy) for (const _key of this.legacy.getKeys({ start: [id, field], end: afterPrefix([id, field]), limit: 1 })) return true;
    return false;
  }

  /**
   * Whether the record has any history entry: every record that was ever stored and is no
   * longer has one (its delete leaves a mark), so with the live records this tells whether an
   * id existed, reading one key rather than the whole history.
   */
  holdsAny(id: string): boolean {
    for (const _key of this.listing.getKeys({ start: historyStartOf(this.definition.name, id), end: afterPrefix(this.key(id)), limit: 1 })) return true;
    if (this.legacy) for (const _key of this.legacy.getKeys({ start: [id], end: afterPrefix([id]), limit: 1 })) return true;
    return false;
  }

  /**
   * One bounded step of bringing kept history down to policies that keep less than they did
   * (`fields`, by name): from `from` (the entity's first listing when undefined), each record's
   * values of those fields beyond what the field's policy keeps now are removed, oldest first,
   * the newest staying, as `record` would have kept them. Stops once about `budget` entries were
   * looked at; runs inside a write transaction. `resumeAt` is where the next step starts,
   * absent once every entry is done.
   */
  trimToPolicy(fields: ReadonlySet<string>, from: IndexKey | undefined, budget: number): { removed: number; resumeAt?: IndexKey } {
    let removed = 0;
    let spent = 0;
    let at: IndexKey = from ?? this.prefix;
    while (spent < budget) {
      let next: unknown[] | undefined;
      for (const key of this.listing.getKeys({ ...this.entityRange, start: at, limit: 1 }) as Iterable<unknown[]>) next = key;
      if (!next) return { removed };
      const [, id, field] = next as [string, string, unknown];
      spent++;
      // A record's events and audit entries come before its history: step over them at once.
      if (typeof field !== 'string') {
        at = historyStartOf(this.definition.name, id);
        continue;
      }
      const policy = fields.has(field) ? this.definition.fieldsByName.get(field)?.history : undefined;
      if (policy !== undefined) {
        // At least one removal per step, so a step that ends inside a record still moves on.
        const trimmed = this.trim(id, field, versionsKept(policy), Math.max(1, budget - spent));
        removed += trimmed.removed;
        spent += trimmed.removed;
        // A record with more surplus than this step may remove is taken up again by the next one.
        if (!trimmed.done) return { removed, resumeAt: this.key(id, field) };
      }
      at = afterPrefix(this.key(id, field));
    }
    return { removed, resumeAt: at };
  }

  /** Removes a record's values of `field` past the newest `keep`, `limit` at most; `done` once none are left. */
  private trim(id: string, field: string, keep: number, limit = Infinity): { removed: number; done: boolean } {
    // Key by key: V8 takes about a microsecond to add a key after a spread, and this runs per write.
    const range: RangeOptions = { start: afterPrefix(this.key(id, field)), end: this.key(id, field), reverse: true };
    // For a few kept versions lmdb steps over them itself, without reading their keys out. Its
    // step ignores the range's end (a field with fewer entries walks on into the next ones) and
    // counts in 32 bits, so many kept versions are read and skipped here.
    const native = keep <= NATIVE_SKIP_LIMIT;
    if (native) range.offset = keep;
    if (limit !== Infinity) range.limit = native ? limit + 1 : keep + limit + 1;
    const keys = [...this.listing.getKeys(range)];
    const surplus = native ? keys : keys.slice(keep);
    for (const key of surplus.slice(0, limit)) this.listing.removeSync(key);
    return { removed: Math.min(surplus.length, limit), done: surplus.length <= limit };
  }

  /**
   * Every entry, for verification; `onKey` hears each key walked (the entity's events and
   * audit entries are listed among them).
   */
  *entries(onKey: () => void = () => undefined): Generator<{ id: string; field: string; version?: number }> {
    for (const key of this.listing.getKeys({ ...this.entityRange }) as Iterable<unknown[]>) {
      onKey();
      if (typeof key[2] === 'string') yield { id: key[1] as string, field: key[2], version: key[3] as number | undefined };
    }
    for (const key of (this.legacy?.getKeys({}) ?? []) as Iterable<unknown[]>) {
      onKey();
      yield { id: key[0] as string, field: key[1] as string, version: key[2] as number | undefined };
    }
  }

  /** How many keys `entries` walks, as LMDB counts them. */
  keysToWalk(): number {
    return this.listing.getKeysCount({ ...this.entityRange }) + (this.legacy?.getKeysCount() ?? 0);
  }

  /** How many entries the history holds, delete markers included (walks the entity's listing). */
  count(): number {
    let count = 0;
    for (const entries = this.entries(); !entries.next().done;) count++;
    return count;
  }

  /**
   * Moves up to a batch of entries a store older than format 6 kept in `<entity>.history` into
   * the record listing, inside a write transaction; answers how many it moved, 0 once none are
   * left. A move cut short leaves every entry in one place or the other, read from both.
   */
  moveLegacyEntries(batch = MOVE_BATCH): number {
    if (!this.legacy) return 0;
    const moved = this.moveFromLegacy({ limit: batch });
    if (moved === 0) this.legacy = undefined;
    return moved;
  }

  private moveLegacyRecord(id: string): void {
    this.moveFromLegacy({ start: [id], end: afterPrefix([id]) });
  }

  private moveFromLegacy(range: RangeOptions): number {
    // Read out before anything is removed: no cursor walks a database this transaction changes under it.
    const entries = [...this.legacy!.getRange(range)];
    for (const { key, value } of entries) {
      this.listing.putSync(this.key(...(key as string[])), value);
      this.legacy!.removeSync(key);
    }
    return entries.length;
  }

  private key(...parts: KeyComponent[]): KeyComponent[] {
    return [...this.prefix, ...parts];
  }

  static readonly deletedMarker = DELETED;
}

/** How many values of a field a policy keeps per record. */
export function versionsKept(policy: HistoryPolicy): number {
  if (policy === 'full') return Infinity;
  return policy === 'never' ? 0 : policy.versions;
}

function actorOf(event: EntityEvent): { actor?: string } {
  return event.actor === undefined ? {} : { actor: event.actor };
}
