import { EntitiesException } from '../common/entities.exception.js';

/**
 * A write whose changes, encoded as one replicated message, are larger than the NATS servers
 * take (`max_payload`). Nothing was stored, and sending it again cannot succeed: answered 413.
 */
export class ChangeTooLargeException extends EntitiesException {
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`the change is ${bytes} bytes once encoded for replication, more than the ${maxBytes} the NATS servers take in one message (max_payload)`);
  }
}
