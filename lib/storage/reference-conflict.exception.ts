import { EntitiesException } from '../common/entities.exception.js';

/**
 * A write would leave a reference to a record that does not exist, or a delete records
 * referring to one that no longer does. In a batch, `element` is the position of the record
 * that conflicts, and the message names it after the entity's name (`permits: [1] ...`), as a
 * batch's validation problems do.
 */
export class ReferenceConflictException extends EntitiesException {
  constructor(
    readonly entity: string,
    /** What conflicts, without the entity's name. */
    readonly detail: string,
    readonly element?: number,
  ) {
    super(`${entity}: ${element === undefined ? '' : `[${element}] `}${detail}`);
  }
}
