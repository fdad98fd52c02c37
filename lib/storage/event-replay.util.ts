import type { EntityEvent } from './entity-event.interface.js';
import type { ChangeApplying } from './entity-projection.interface.js';
import type { EventLog } from './event-log.store.js';

/**
 * Applies events made elsewhere (a replica, a backup of the log) through the same applier as
 * local writes, inside the current write transaction, where they get the seqs they carry.
 * Each must carry the next seq of the log: a gap or a repeat would make this store's history
 * differ from the one it copies.
 */
export function replayEvents(log: EventLog, events: readonly EntityEvent[], tx: ChangeApplying): void {
  for (const { seq, ...event } of events) {
    const expected = log.lastSeq() + 1;
    if (seq !== expected) throw new Error(`event seq ${seq} does not follow the log (expected ${expected})`);
    tx.apply({ kind: 'event', event });
  }
}
