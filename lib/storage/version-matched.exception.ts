import { EntitiesException } from '../common/entities.exception.js';

/** The record is at a version the write's `If-None-Match` names; nothing was changed. */
export class VersionMatchedException extends EntitiesException {
  constructor(
    readonly entity: string,
    readonly id: string,
    readonly version: number,
  ) {
    super(`${entity} ${JSON.stringify(id)} is at version ${version}, which If-None-Match names`);
  }
}
