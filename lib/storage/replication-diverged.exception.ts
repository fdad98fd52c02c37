import { StorageFailureException } from './storage-failure.exception.js';

/**
 * A replicated message does not follow what this store applied (a gap, another chain of
 * hashes, entities stored another way): the store stops taking writes rather than diverge from
 * the other instances. Reads go on; health reports it.
 */
export class ReplicationDivergedException extends StorageFailureException {
  constructor(message: string) {
    super(`replication stopped: ${message}`, false);
  }
}
