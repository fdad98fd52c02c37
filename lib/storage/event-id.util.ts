import { decodeTime } from 'ulid';
import { ulidAt, ulidFactory } from './ulid.util.js';

/**
 * Ids of events, which are also the ids of their audit entries, and of the audit entries of
 * refused writes: one generator, monotonic within the process, so a process's trail is in the
 * order its changes and refusals happened even within one millisecond.
 */
export const nextEventId: () => string = ulidFactory();

/**
 * A new event or audit entry id and its time, which is the id's: never before `notBefore` (ms
 * since the epoch). A wall clock stepped back (NTP), or a record imported with times ahead of
 * this machine's, would otherwise give a record an `updatedAt` before its `createdAt` and a
 * time-travel read the wrong version. Such an id is made on its own, so as not to hold every
 * later id of the process at that time; it sorts with its time, as its audit entry does.
 */
export function timedEventId(notBefore = 0): { id: string; at: string } {
  let id = nextEventId();
  let time = decodeTime(id);
  if (time < notBefore) {
    id = ulidAt(notBefore);
    time = notBefore;
  }
  return { id, at: new Date(time).toISOString() };
}
