import { EntitiesException } from '../common/entities.exception.js';

/** Another record already holds these values in a unique index. */
export class UniqueConstraintException extends EntitiesException {
  constructor(
    readonly entity: string,
    readonly index: string,
    readonly fields: readonly string[],
  ) {
    super(`${entity}: another record has the same ${fields.join(', ')} (unique index "${index}")`);
  }
}
