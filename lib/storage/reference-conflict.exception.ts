import { EntitiesException } from '../common/entities.exception.js';

/** A write would leave a reference to a record that does not exist, or a delete records referring to one that no longer does. */
export class ReferenceConflictException extends EntitiesException {
  constructor(
    readonly entity: string,
    message: string,
  ) {
    super(`${entity}: ${message}`);
  }
}
