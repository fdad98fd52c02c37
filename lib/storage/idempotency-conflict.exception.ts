import { EntitiesException } from '../common/entities.exception.js';

/** An idempotency key reused with different data; nothing was changed. */
export class IdempotencyConflictException extends EntitiesException {
  constructor(
    readonly entity: string,
    readonly key: string,
  ) {
    super(`${entity}: idempotency key ${JSON.stringify(key)} was already used with different data`);
  }
}
