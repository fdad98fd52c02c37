import { ulidFactory } from './ulid.util.js';

/**
 * Ids of events, which are also the ids of their audit entries, and of the audit entries of
 * refused writes: one generator, monotonic within the process, so a process's trail is in the
 * order its changes and refusals happened even within one millisecond.
 */
export const nextEventId: () => string = ulidFactory();
