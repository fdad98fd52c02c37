import { EntitiesException } from '../common/entities.exception.js';

/**
 * The store could not commit a write (disk full, I/O error, closed environment).
 * Nothing of the write is visible; `diskFull` tells the two main causes apart.
 */
export class StorageFailureException extends EntitiesException {
  constructor(
    message: string,
    readonly diskFull: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
