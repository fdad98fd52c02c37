import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';

const MDB_MAGIC = 0xbeefc0de;
/** Bits of a robust futex word (linux/futex.h): the rest is the owner's thread id. */
const FUTEX_OWNER_DIED = 0x40000000;
const FUTEX_TID_MASK = 0x3fffffff;
/** sizeof(pthread_mutex_t) under glibc, which lays out the lock file's header. */
const MUTEX_SIZE: Record<string, number> = { x64: 40, arm64: 48 };
const CACHELINE = 64;

/** One slot of LMDB's reader table. */
export interface ReaderSlot {
  pid: number;
  /** The snapshot the slot pins, or undefined when it holds no read transaction right now. */
  txnid: number | undefined;
}

/**
 * Looks into the LMDB lock file of a data directory while other processes use it: the reader
 * table through lmdb's own `readerList()`, `readerCheck()` and `getStats()`, and which thread
 * holds the write lock by reading the futex word of LMDB's write mutex (`mti_wmutex`, a robust
 * pthread mutex in the shared lock file) straight from the file.
 *
 * Opening lmdb runs `readerCheck()`, which sweeps stale slots, so the probe is opened once,
 * before any process is killed, and kept open; it never writes.
 */
export class LmdbLockFile {
  private readonly root: RootDatabase;
  private readonly fd: number;
  private readonly writeMutexOffset: number;

  constructor(dataPath: string) {
    const mutexSize = MUTEX_SIZE[process.arch];
    if (process.platform !== 'linux' || mutexSize === undefined) {
      throw new Error(`the LMDB lock file layout is only known here for glibc Linux on x64 and arm64, not ${process.platform}/${process.arch}`);
    }
    // MDB_txbody: magic, format, txnid, numreaders, then the reader mutex, padded to a cache line.
    this.writeMutexOffset = Math.ceil((24 + mutexSize) / CACHELINE) * CACHELINE;
    this.fd = openSync(join(dataPath, 'lock.mdb'), 'r');
    if (this.word(0) !== MDB_MAGIC) throw new Error(`${dataPath}/lock.mdb does not start with LMDB's magic number`);
    this.root = open({ path: dataPath, noSubdir: false, readOnly: true, cache: false, compression: false });
  }

  /** The thread id holding LMDB's write lock, or undefined when it is free (or its owner died). */
  writeLockOwner(): number | undefined {
    const tid = this.word(this.writeMutexOffset) & FUTEX_TID_MASK;
    return tid === 0 ? undefined : tid;
  }

  /** Whether the kernel marked the write lock's owner dead and no process has taken the lock since. */
  writeLockOwnerDied(): boolean {
    return (this.word(this.writeMutexOffset) & FUTEX_OWNER_DIED) !== 0;
  }

  readers(): ReaderSlot[] {
    return this.root
      .readerList()
      .split('\n')
      .map((line) => /^\s*(\d+)\s+[0-9a-f]+\s+(\d+|-)\s*$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => ({ pid: Number(match[1]), txnid: match[2] === '-' ? undefined : Number(match[2]) }));
  }

  /** Sweeps slots of dead processes; the number swept. */
  readerCheck(): number {
    return this.root.readerCheck();
  }

  /** Reader slots ever used (LMDB never lowers it) and the table's size. */
  readerStats(): { numReaders: number; maxReaders: number } {
    const { numReaders, maxReaders } = this.root.getStats() as { numReaders: number; maxReaders: number };
    return { numReaders, maxReaders };
  }

  async close(): Promise<void> {
    closeSync(this.fd);
    await this.root.close();
  }

  private word(offset: number): number {
    const buffer = Buffer.alloc(4);
    readSync(this.fd, buffer, 0, 4, offset);
    return buffer.readUInt32LE(0);
  }
}

/** Whether `tid` is a thread of process `pid` right now. */
export function isThreadOf(pid: number, tid: number): boolean {
  return existsSync(`/proc/${pid}/task/${tid}`);
}
