import { EntitiesException } from '../common/entities.exception.js';

/** No live record of `entity` has this id. An id past 64 characters is shortened, since it is echoed to clients and logs. */
export class RecordNotFoundException extends EntitiesException {
  readonly id: string;

  constructor(
    readonly entity: string,
    id: string,
  ) {
    const shown = id.length > 64 ? `${id.slice(0, 64)}…` : id;
    super(`${entity} ${JSON.stringify(shown)} not found`);
    this.id = shown;
  }
}
