import { decodeTime } from 'ulid';
import type { EntityEvent } from './entity-event.interface.js';
import { ULID, ulidFactory } from './ulid.util.js';

/**
 * Ids of events, which are also the ids of their audit entries, and of the audit entries of
 * refused writes: one generator, monotonic within the process, so a process's trail is in the
 * order its changes and refusals happened even within one millisecond.
 */
export const nextEventId: () => string = ulidFactory();

/**
 * A new event id, and the time of its change: the id's (when it was written, by this process's
 * clock, which its ids never let go back), or `notBefore` (ms since the epoch, the record's
 * last change) when that is later. A wall clock stepped back (NTP) before a restart, or another
 * process's clock ahead of this one's, would otherwise give a record an `updatedAt` before its
 * `createdAt` and a time-travel read the wrong version.
 */
export function timedEventId(notBefore = 0): { id: string; at: string } {
  const id = nextEventId();
  return { id, at: new Date(Math.max(decodeTime(id), notBefore)).toISOString() };
}

/** When an event was written, by the clock of the process that wrote it (ms since the epoch); its `at` for an id of another kind (a log replayed from elsewhere). */
export function writtenAt(event: Pick<EntityEvent, 'eventId' | 'at'>): number {
  return ULID.test(event.eventId) ? decodeTime(event.eventId) : Date.parse(event.at);
}
