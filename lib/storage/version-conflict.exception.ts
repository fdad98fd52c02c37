import { EntitiesException } from '../common/entities.exception.js';

/** The record's version is not the one the write expected; nothing was changed. */
export class VersionConflictException extends EntitiesException {
  constructor(
    readonly entity: string,
    readonly id: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`${entity} ${JSON.stringify(id)} is at version ${actualVersion}, not ${expectedVersion}`);
  }
}
