import { EntitiesException } from '../common/entities.exception.js';

/** A write whose data does not fit the entity definition. `problems` name each field at fault. */
export class InvalidRecordException extends EntitiesException {
  constructor(
    readonly entity: string,
    readonly problems: readonly string[],
  ) {
    super(`${entity}: ${problems.join('; ')}`);
  }
}
