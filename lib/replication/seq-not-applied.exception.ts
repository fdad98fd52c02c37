import { StorageFailureException } from '../storage/storage-failure.exception.js';

/**
 * This instance has not applied a replicated change a caller waits for, in time. A 503 like any
 * store that cannot answer yet, but the instance is only behind, not failing: it is logged as a
 * warning.
 */
export class SeqNotAppliedException extends StorageFailureException {
  constructor(seq: number, appliedSeq: number) {
    super(`this instance has applied the replicated changes up to ${appliedSeq}, not yet ${seq}`, false);
  }
}
