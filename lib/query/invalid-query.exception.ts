import { EntitiesException } from '../common/entities.exception.js';

/** A query that cannot be run as written; the message names the parameter at fault. */
export class InvalidQueryException extends EntitiesException {
  constructor(message: string) {
    super(message);
  }
}
