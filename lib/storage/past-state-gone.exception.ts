import { EntitiesException } from '../common/entities.exception.js';

/**
 * Part of the past the event log no longer holds: its older events were dropped by the
 * retention policy (`eventRetention`), so a record's state then, or the changes after a seq,
 * cannot be told; also changes after a seq past the log's end. HTTP: 410.
 */
export class PastStateGoneException extends EntitiesException {
  constructor(
    readonly entity: string,
    /** What was asked for, e.g. `"01J…" at version 3` or `changes after seq 40`. */
    readonly what: string,
    /** Why the log cannot answer, when not because retention dropped the events. */
    why = 'is no longer in the event log (eventRetention dropped it)',
  ) {
    super(`${entity}: ${what} ${why}`);
  }
}
