import { EntitiesException } from '../common/entities.exception.js';

/** Wrong decorator metadata, found while reading an entity class at start-up. */
export class EntityMetadataException extends EntitiesException {
  constructor(className: string, field: string | undefined, problem: string) {
    super(`${field === undefined ? className : `${className}.${field}`}: ${problem}`);
  }
}
