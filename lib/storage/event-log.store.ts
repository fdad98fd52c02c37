import type { Database } from 'lmdb';
import type { EntityEvent } from './entity-event.interface.js';

/**
 * The append-only log of every change in a data directory, keyed by `seq`. LMDB allows
 * one writer at a time across all processes, so reading the last seq and appending in
 * the same write transaction keeps the sequence gap-free.
 */
export class EventLog {
  constructor(private readonly db: Database<EntityEvent, number>) {}

  /** Appends inside the current write transaction and returns the event with its seq. */
  append(event: Omit<EntityEvent, 'seq'>): EntityEvent {
    const seq = this.lastSeq() + 1;
    const stored = { seq, ...event };
    this.db.putSync(seq, stored);
    return stored;
  }

  lastSeq(): number {
    for (const key of this.db.getKeys({ reverse: true, limit: 1 })) return key;
    return 0;
  }

  /** Events with a seq greater than `afterSeq`, oldest first. */
  read(afterSeq = 0, limit = 1000): EntityEvent[] {
    return [...this.db.getRange({ start: afterSeq + 1, limit })].map(({ value }) => value);
  }
}
