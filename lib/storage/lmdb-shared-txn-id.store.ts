import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** MDB_txbody, at the start of lock.mdb: magic u32, format u32, then the last commit's id u64. */
export const LOCK_TXNID_AT = 8;

interface LockFileDescriptor {
  fd: number;
  writable: boolean;
  /** Environments of this process open on the file. */
  users: number;
}

/**
 * Closing any descriptor of lock.mdb drops every file lock this process holds on it (POSIX
 * record locks belong to the process, not to the descriptor), among them the one by which
 * LMDB tells the first opener of a directory from the others. So each lock file gets one
 * descriptor per process, closed only once no environment of this process is open on it.
 * Keyed by the file itself (device and inode), as lmdb shares its environments: two paths
 * to one directory are one environment.
 */
const descriptors = new Map<string, LockFileDescriptor>();
/** Why lock.mdb may open for reading only; any other failure is one. */
const READ_ONLY_CODES = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * LMDB's shared id of the last commit (`mti_txnid` in lock.mdb), from which every process
 * starts its read and write transactions. Read and written through the file, which shares
 * its pages with the mapping every LMDB process reads it through.
 */
export class SharedTxnId {
  private readonly bytes = Buffer.alloc(8);
  private released = false;

  private constructor(
    private readonly key: string,
    private readonly descriptor: LockFileDescriptor,
  ) {}

  /**
   * Call once the environment on `path` is open, `release` once it is closed. Undefined when
   * the directory has no lock.mdb: LMDB opens a read-only medium without one.
   */
  static attach(path: string): SharedTxnId | undefined {
    const file = join(path, 'lock.mdb');
    let key: string;
    try {
      const { dev, ino } = statSync(file, { bigint: true });
      key = `${dev}:${ino}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let descriptor = descriptors.get(key);
    if (!descriptor) {
      let writable = true;
      let fd: number;
      try {
        fd = openSync(file, 'r+');
      } catch (error) {
        if (!READ_ONLY_CODES.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
        // A read-only directory: the id can still be watched; a child process sets it right.
        fd = openSync(file, 'r');
        writable = false;
      }
      descriptor = { fd, writable, users: 0 };
      descriptors.set(key, descriptor);
    }
    descriptor.users++;
    return new SharedTxnId(key, descriptor);
  }

  read(): number {
    readSync(this.descriptor.fd, this.bytes, 0, 8, LOCK_TXNID_AT);
    return Number(this.bytes.readBigUInt64LE(0));
  }

  /**
   * Sets the shared id to `txnId`, which must be the newest commit in the data file, while
   * this process holds LMDB's write lock: no commit can then move it meanwhile. Returns
   * false when the file could only be opened for reading.
   */
  write(txnId: number): boolean {
    if (!this.descriptor.writable) return false;
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(BigInt(txnId));
    writeSync(this.descriptor.fd, bytes, 0, 8, LOCK_TXNID_AT);
    return true;
  }

  /** Once the environment it was attached for is closed; the last user of the file closes the descriptor. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (--this.descriptor.users > 0) return;
    descriptors.delete(this.key);
    closeSync(this.descriptor.fd);
  }
}
