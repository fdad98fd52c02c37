import { EntitiesException } from '../common/entities.exception.js';

/**
 * A record's past state the log no longer holds: its older events were dropped by the
 * retention policy (`eventRetention`), so what it was then cannot be told. HTTP: 410.
 */
export class PastStateGoneException extends EntitiesException {
  constructor(
    readonly entity: string,
    readonly id: string,
    point: string,
  ) {
    super(`${entity} ${JSON.stringify(id)} at ${point} is no longer in the event log (eventRetention dropped it)`);
  }
}
