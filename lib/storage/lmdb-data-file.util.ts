import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { DamagedStoreException } from './damaged-store.exception.js';

/*
 * Where LMDB keeps what this check reads, in the data format of lmdb 3.x (its fork of LMDB
 * 1.0, data version 2; `MDB_page_header` and `MDB_meta` in its mdb.c), confirmed on files the
 * package writes. Pages 0 and 1 are meta pages; each starts with a 24-byte page header
 * (pgno u64, txnid u64, pad u16, flags u16, bounds u32), then the meta: magic u32, version
 * u32, address u64, map size u64, two MDB_db records of 48 bytes (the first one's leading u32
 * is the page size), last used page u64, id of the transaction that wrote it u64.
 */
const MAGIC_AT = 24;
export const PAGE_SIZE_AT = 48;
const LAST_PAGE_AT = 144;
export const META_TXNID_AT = LAST_PAGE_AT + 8;
const META_END = LAST_PAGE_AT + 8;
const LMDB_MAGIC = 0xbeefc0de;
const MIN_PAGE_SIZE = 512;
const MAX_PAGE_SIZE = 0x10000;

/**
 * A process creating a store writes its meta pages just after creating the file; another one
 * checking in between sees a short file, so a failed check is repeated for a moment before
 * it counts. A damaged file stays damaged.
 */
const ATTEMPTS = 10;
const ATTEMPT_GAP_MS = 50;

/**
 * Throws `DamagedStoreException` when the directory's `data.mdb` is not a whole LMDB file:
 * empty, not LMDB (bad magic), or shorter than its meta pages say it is. A missing file
 * passes: LMDB creates it. Must run before lmdb opens the environment, which maps the file
 * and crashes the process (SIGBUS) on a page past its end.
 */
export function assertWholeDataFile(directory: string): void {
  const file = join(directory, 'data.mdb');
  for (let attempt = 1; ; attempt++) {
    const problem = dataFileProblem(file);
    if (problem === undefined) return;
    if (attempt === ATTEMPTS) throw new DamagedStoreException(file, problem);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ATTEMPT_GAP_MS);
  }
}

/** What is wrong with the file, or `undefined` when it is sound or missing. */
export function dataFileProblem(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    // The meta pages are read before the size: a writer extends the file before it writes
    // the meta page that counts the new pages, so the size read after covers them.
    const first = readAt(fd, 0);
    const pageSize = first.length >= META_END ? first.readUInt32LE(PAGE_SIZE_AT) : 0;
    const second = validPageSize(pageSize) ? readAt(fd, pageSize) : Buffer.alloc(0);
    const size = fstatSync(fd).size;
    if (size === 0) return 'is empty (0 bytes), not an LMDB store: restore it from a backup, or delete it if the first start on this directory was cut short';
    if (first.length < MAGIC_AT + 4 || first.readUInt32LE(MAGIC_AT) !== LMDB_MAGIC) return 'is not an LMDB file (bad magic)';
    if (first.length < META_END) return `is truncated: ${size} bytes, shorter than its first meta page`;
    if (!validPageSize(pageSize)) return `is damaged: its first meta page gives a page size of ${pageSize}`;
    if (size < 2 * pageSize || second.length < META_END) return `is truncated: ${size} bytes, less than its two meta pages (${2 * pageSize} bytes)`;
    if (second.readUInt32LE(MAGIC_AT) !== LMDB_MAGIC) return 'is damaged: its second meta page is not an LMDB meta page (bad magic)';
    const lastPage = Math.max(Number(first.readBigUInt64LE(LAST_PAGE_AT)), Number(second.readBigUInt64LE(LAST_PAGE_AT)));
    const needed = (lastPage + 1) * pageSize;
    if (size < needed) return `is truncated: ${size} bytes, its meta page says at least ${needed}`;
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Up to the end of a meta page's fields, read from `offset`; shorter where the file ends. */
function readAt(fd: number, offset: number): Buffer {
  const buffer = Buffer.alloc(META_END);
  return buffer.subarray(0, readSync(fd, buffer, 0, META_END, offset));
}

function validPageSize(size: number): boolean {
  return size >= MIN_PAGE_SIZE && size <= MAX_PAGE_SIZE && (size & (size - 1)) === 0;
}
