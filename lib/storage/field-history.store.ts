import type { Database } from 'lmdb';
import type { HistoryPolicy } from '../metadata/decorator-options.interface.js';
import type { EntityDefinition, FieldDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityEvent, StoredRecord } from './entity-event.interface.js';
import { afterPrefix, type IndexKey } from './index-key.util.js';

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

/** Up to this many kept versions, trimming lets lmdb step over them (see `trim`). */
const NATIVE_SKIP_LIMIT = 16;

/** Field names cannot hold `#`, so this key never collides with a field's entries. */
const DELETED = '#deleted';

/**
 * Per-field history of one entity, keyed `[id, field, version]`, so one record's history
 * is one range read and never a scan of the log. Written by `applyEvent` in the same
 * transaction as the change; `{ versions: N }` is trimmed there too. A delete leaves a
 * marker so the history of deleted records stays readable.
 */
export class FieldHistory {
  private readonly historized: readonly FieldDefinition[];

  constructor(
    private readonly definition: EntityDefinition,
    private readonly db: Database<FieldHistoryEntry, IndexKey>,
  ) {
    this.historized = definition.fields.filter((field) => field.history !== 'never');
  }

  /** Records what `event` changed; runs inside the event's write transaction. */
  record(event: EntityEvent, before: StoredRecord | undefined, after: StoredRecord | undefined): void {
    if (!after) {
      this.db.putSync([event.id, DELETED], { value: null, version: event.version, at: event.at, ...actorOf(event) });
      return;
    }
    // A restored record is stored again, so it is no longer marked deleted.
    if (event.type === 'restored') this.db.removeSync([event.id, DELETED]);
    // A renamed field keeps its past under its new name, and its value moving is no new value.
    const prior = event.renamed && before ? this.renameFields(event.id, event.renamed, before) : before;
    for (const field of this.historized) {
      const value = after[field.name];
      if (value === prior?.[field.name] || (prior === undefined && value === undefined)) continue;
      this.db.putSync([event.id, field.name, event.version], { value: value ?? null, version: event.version, at: event.at, ...actorOf(event) });
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
      entries: [...this.db.getRange({ start: [id, from], end: afterPrefix([id, from]) })],
    }));
    // Read before anything is written: a swap of two fields moves each history once.
    for (const { entries } of moves) for (const { key } of entries) this.db.removeSync(key);
    const moved: Record<string, unknown> = { ...before };
    for (const { from } of moves) delete moved[from];
    for (const { from, to, entries } of moves) {
      const field = this.definition.fieldsByName.get(to);
      const kept = field ? versionsKept(field.history) : Infinity;
      if (kept > 0) for (const { key, value } of entries) this.db.putSync([id, to, (key as unknown[])[2] as number], value);
      if (kept > 0 && kept !== Infinity) this.trim(id, to, kept);
      if (before[from] !== undefined) moved[to] = before[from];
    }
    return moved as StoredRecord;
  }

  /** The history of a record, or `undefined` if no record with this id ever existed. */
  read(id: string, exists: boolean): RecordHistory | undefined {
    const fields: Record<string, FieldHistoryEntry[]> = {};
    for (const field of this.historized) fields[field.name] = [];
    let found = exists;
    for (const { key, value } of this.db.getRange({ start: [id], end: afterPrefix([id]), reverse: false })) {
      found = true;
      const field = (key as unknown[])[1] as string;
      fields[field]?.unshift(value);
    }
    return found ? { id, fields } : undefined;
  }

  /**
   * One bounded step of bringing kept history down to policies that keep less than they did
   * (`fields`, by name): from `from` (the first entry when undefined), each record's values of
   * those fields beyond what the field's policy keeps now are removed, oldest first, the
   * newest staying, as `record` would have kept them. Stops once about `budget` entries were
   * looked at; runs inside a write transaction. `resumeAt` is where the next step starts,
   * absent once every entry is done.
   */
  trimToPolicy(fields: ReadonlySet<string>, from: IndexKey | undefined, budget: number): { removed: number; resumeAt?: IndexKey } {
    let removed = 0;
    let spent = 0;
    let at = from;
    while (spent < budget) {
      let next: unknown[] | undefined;
      for (const key of this.db.getKeys({ ...(at !== undefined && { start: at }), limit: 1 }) as Iterable<unknown[]>) next = key;
      if (!next) return { removed };
      const [id, field] = next as [string, string];
      spent++;
      const policy = fields.has(field) ? this.definition.fieldsByName.get(field)?.history : undefined;
      if (policy !== undefined) {
        // At least one removal per step, so a step that ends inside a record still moves on.
        const trimmed = this.trim(id, field, versionsKept(policy), Math.max(1, budget - spent));
        removed += trimmed.removed;
        spent += trimmed.removed;
        // A record with more surplus than this step may remove is taken up again by the next one.
        if (!trimmed.done) return { removed, resumeAt: [id, field] };
      }
      at = afterPrefix([id, field]);
    }
    return { removed, resumeAt: at };
  }

  /** Removes a record's values of `field` past the newest `keep`, `limit` at most; `done` once none are left. */
  private trim(id: string, field: string, keep: number, limit = Infinity): { removed: number; done: boolean } {
    const range = { start: afterPrefix([id, field]), end: [id, field], reverse: true };
    // For a few kept versions lmdb steps over them itself, without reading their keys out. Its
    // step ignores the range's end (a field with fewer entries walks on into the next ones) and
    // counts in 32 bits, so many kept versions are read and skipped here.
    const surplus =
      keep <= NATIVE_SKIP_LIMIT
        ? [...this.db.getKeys({ ...range, offset: keep, ...(limit !== Infinity && { limit: limit + 1 }) })]
        : [...this.db.getKeys(limit === Infinity ? range : { ...range, limit: keep + limit + 1 })].slice(keep);
    for (const key of surplus.slice(0, limit)) this.db.removeSync(key);
    return { removed: Math.min(surplus.length, limit), done: surplus.length <= limit };
  }

  /** Every entry key, for verification. */
  *entries(): Generator<{ id: string; field: string; version?: number }> {
    for (const key of this.db.getKeys({}) as Iterable<unknown[]>) {
      yield { id: key[0] as string, field: key[1] as string, version: key[2] as number | undefined };
    }
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
