import type { EntityEvent } from './entity-event.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import { applyEvent } from './event-applier.util.js';
import type { EventLog } from './event-log.store.js';

/**
 * Appends events made elsewhere (a replica, a backup of the log) to `log` and applies them
 * through the same `applyEvent` as local writes, inside the current write transaction. Each
 * must carry the next seq of the log: a gap or a repeat would make this store's history
 * differ from the one it copies.
 */
export function replayEvents(log: EventLog, events: readonly EntityEvent[], tablesNamed: (entity: string) => EntityTables | undefined): void {
  for (const event of events) {
    const expected = log.lastSeq() + 1;
    if (event.seq !== expected) throw new Error(`event seq ${event.seq} does not follow the log (expected ${expected})`);
    const tables = tablesNamed(event.entity);
    if (!tables) throw new Error(`event ${event.seq} names an unknown entity "${event.entity}"`);
    log.put(event);
    applyEvent(tables, event);
  }
}
