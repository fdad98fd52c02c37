import { writtenAt } from './event-id.util.js';
import type { Database } from 'lmdb';
import type { EntityEvent } from './entity-event.interface.js';
import type { EventRetention } from '../common/storage-options.interface.js';
import { historyStartOf, isEventListing } from './record-listing.util.js';
import type { IndexKey } from './index-key.util.js';

/** In `_meta`: the seq of the newest event appended (store format 4). */
const LAST_SEQ_KEY: IndexKey = ['log', 'last-seq'];

/**
 * The append-only log of every change in a data directory, keyed by `seq`. LMDB allows
 * one writer at a time across all processes, so reading the last seq and appending in
 * the same write transaction keeps the sequence gap-free. Each event is also listed under
 * its record (`[entity, id, seq]`), so one record's events are a range read; the audit trail
 * and the history list their entries there too (see `RECORD_LISTING_DB`). The last seq is
 * kept under a key of its own: a get where the log's last key took a cursor, which cost a
 * write more than any of its puts.
 */
export class EventLog {
  constructor(
    private readonly db: Database<EntityEvent, number>,
    private readonly byRecord: Database<null, IndexKey>,
    private readonly meta: Database<unknown, IndexKey>,
  ) {}

  /** Appends inside the current write transaction and returns the event with its seq. */
  append(event: Omit<EntityEvent, 'seq'>): EntityEvent {
    const seq = this.lastSeq() + 1;
    const stored = { seq, ...event };
    this.db.putSync(seq, stored);
    this.byRecord.putSync([stored.entity, stored.id, seq], null);
    this.meta.putSync(LAST_SEQ_KEY, seq);
    return stored;
  }

  /** Counts the log's last seq under its key, for a store written before the key existed; inside a write transaction. */
  countLastSeq(): void {
    const newest = this.newestKey();
    if (newest > 0) this.meta.putSync(LAST_SEQ_KEY, newest);
  }

  /** One record's events still in the log, oldest first. */
  *recordEvents(entity: string, id: string): Generator<EntityEvent> {
    const prefix = [entity, id];
    // The audit entries of compacted events stay listed below the log's first seq: a record
    // with a long trail would otherwise be walked in full to find its few events left.
    const start = [...prefix, this.firstSeq()];
    for (const key of this.byRecord.getKeys({ start, end: historyStartOf(entity, id) }) as Iterable<[string, string, number]>) {
      if (!isEventListing(key)) continue;
      const event = this.db.get(key[2]);
      if (event) yield event;
    }
  }

  /**
   * Lists under their records the events from `afterSeq` on, at most `limit`, inside a write
   * transaction; answers the last seq it listed, or `undefined` past the end. For stores whose
   * log was written before the listing existed.
   */
  indexRecords(afterSeq: number, limit: number): number | undefined {
    let last: number | undefined;
    for (const { key, value } of this.db.getRange({ start: afterSeq + 1, limit })) {
      this.byRecord.putSync([value.entity, value.id, key], null);
      last = key;
    }
    return last;
  }

  /** The events' entries of the per-record listing, for `verify`: `[entity, id, seq]`. */
  *recordListing(): Generator<[string, string, number]> {
    for (const key of this.byRecord.getKeys({}) as Iterable<[string, string, number]>) if (isEventListing(key)) yield key;
  }

  /** The event at `seq`, if the log still holds it. */
  eventAt(seq: number): EntityEvent | undefined {
    return this.db.get(seq);
  }

  lastSeq(): number {
    const counted = this.countedSeq();
    // An event after the count: a process of an older format, still running on the directory,
    // appended without counting. The log's last key then says, for appends and readers alike.
    if (counted !== undefined && !this.db.doesExist(counted + 1)) return counted;
    return this.newestKey();
  }

  /** The last seq as counted under its key; `undefined` in a store written before the count (format 3). */
  countedSeq(): number | undefined {
    const counted = this.meta.get(LAST_SEQ_KEY);
    return typeof counted === 'number' ? counted : undefined;
  }

  /** The seq the log's last key holds (0 when empty), for `verify` to hold the counted one against. */
  newestKey(): number {
    for (const key of this.db.getKeys({ reverse: true, limit: 1 })) return key;
    return 0;
  }

  firstSeq(): number {
    for (const key of this.db.getKeys({ limit: 1 })) return key;
    return 0;
  }

  /** Events with a seq greater than `afterSeq`, oldest first. */
  read(afterSeq = 0, limit = 1000): EntityEvent[] {
    checkEventRange(afterSeq, limit);
    return [...this.db.getRange({ start: afterSeq + 1, limit })].map(({ value }) => value);
  }

  /** One entity's events with a seq greater than `afterSeq`, oldest first, `limit` at most. */
  readEntity(entity: string, afterSeq = 0, limit = 1000): EntityEvent[] {
    checkEventRange(afterSeq, limit);
    const found: EntityEvent[] = [];
    for (const { value } of this.db.getRange({ start: afterSeq + 1 })) {
      if (found.length === limit) break;
      if (value.entity === entity) found.push(value);
    }
    return found;
  }

  /** Every event, oldest first, read lazily. */
  *all(): Generator<EntityEvent> {
    for (const { value } of this.db.getRange({})) yield value;
  }

  /**
   * Drops the oldest events past the retention policy, inside a write transaction. The
   * newest event always stays, so the next seq still follows the last one.
   */
  compact(retention: EventRetention, now: number, max: number): number {
    const last = this.lastSeq();
    const keepFrom = retention.maxEvents === undefined ? 0 : last - Math.max(1, retention.maxEvents) + 1;
    // An event's age counts from when it was written: its `at` may be later (see `timedEventId`).
    const cutoff = retention.maxAgeMs === undefined ? undefined : now - retention.maxAgeMs;
    const doomed: EntityEvent[] = [];
    for (const { key, value } of this.db.getRange({ end: last })) {
      if (doomed.length === max || (key >= keepFrom && (cutoff === undefined || writtenAt(value) >= cutoff))) break;
      doomed.push(value);
    }
    // An audit entry listed after an event stays: the trail outlives the log.
    for (const event of doomed) {
      this.db.removeSync(event.seq);
      this.byRecord.removeSync([event.entity, event.id, event.seq]);
    }
    return doomed.length;
  }
}

/** A seq that is not a whole number would read from the wrong key, and a limit that is not one would read the whole log. */
function checkEventRange(afterSeq: number, limit: number): void {
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new RangeError(`afterSeq must be a whole number from 0, not ${String(afterSeq)}`);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a whole number from 1, not ${String(limit)}`);
}
