import type { Database } from 'lmdb';
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
    definition: EntityDefinition,
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
    for (const field of this.historized) {
      const value = after[field.name];
      if (value === before?.[field.name] || (before === undefined && value === undefined)) continue;
      this.db.putSync([event.id, field.name, event.version], { value: value ?? null, version: event.version, at: event.at, ...actorOf(event) });
      // A record holds at most one entry per field and version, so nothing is over the limit before it.
      if (typeof field.history === 'object' && event.version > field.history.versions) this.trim(event.id, field.name, field.history.versions);
    }
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

  private trim(id: string, field: string, keep: number): void {
    let seen = 0;
    for (const key of [...this.db.getKeys({ start: afterPrefix([id, field]), end: [id, field], reverse: true })]) {
      if (++seen > keep) this.db.removeSync(key);
    }
  }

  /** Every entry key, for verification. */
  *entries(): Generator<{ id: string; field: string; version?: number }> {
    for (const key of this.db.getKeys({}) as Iterable<unknown[]>) {
      yield { id: key[0] as string, field: key[1] as string, version: key[2] as number | undefined };
    }
  }

  static readonly deletedMarker = DELETED;
}

function actorOf(event: EntityEvent): { actor?: string } {
  return event.actor === undefined ? {} : { actor: event.actor };
}
