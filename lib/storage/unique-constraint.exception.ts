import { EntitiesException } from '../common/entities.exception.js';

/**
 * Another record already holds these values in a unique index. In a batch, `element` is the
 * position of the record that conflicts, and the message names it after the entity's name
 * (`permits: [2] ...`), as a batch's validation problems do.
 */
export class UniqueConstraintException extends EntitiesException {
  constructor(
    readonly entity: string,
    readonly index: string,
    readonly fields: readonly string[],
    readonly element?: number,
  ) {
    super(`${entity}: ${element === undefined ? '' : `[${element}] `}another record has the same ${fields.join(', ')} (unique index "${index}")`);
  }
}
