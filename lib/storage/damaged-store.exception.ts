import { EntitiesException } from '../common/entities.exception.js';

/**
 * The store's `data.mdb` is not a whole LMDB file (not LMDB at all, or cut short), found
 * before lmdb maps it: mapped, such a file crashes the process (SIGBUS, SIGSEGV) or hangs it.
 */
export class DamagedStoreException extends EntitiesException {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file} ${problem}`);
  }
}
