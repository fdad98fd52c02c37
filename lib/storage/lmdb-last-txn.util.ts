import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type { RootDatabase } from 'lmdb';
import { META_TXNID_AT, PAGE_SIZE_AT } from './lmdb-data-file.util.js';
import { LOCK_TXNID_AT } from './lmdb-shared-txn-id.store.js';

/**
 * The LMDB inside lmdb 3.5 still has the race upstream fixed as ITS#9496: a process that opens
 * the environment while another commits sets the shared id of the last commit (in lock.mdb)
 * back to what it read a moment before. The next write transaction, in any process, then
 * starts from the state before that commit and, once committed, takes its place: an
 * acknowledged write gone. Readers meanwhile see the older state, and a writer syncing its
 * commit spins until the id matches the data file again. A backup, a `verify` or a second
 * app opening the data directory was enough.
 */

/** lmdb's environment handle, which its type declarations leave out. */
interface EnvironmentHandle {
  info(): { lastTxnId: number };
}

/**
 * Inside a write transaction: whether it started from a state older than the newest commit
 * in the data file, i.e. behind a commit it would overwrite. lmdb reads the newest commit
 * from the meta pages every process writes to, so a commit elsewhere counts too.
 */
export function startsBehindLastCommit(root: RootDatabase): boolean {
  return root.getWriteTxnId() <= newestCommitOf(root);
}

/** The id of the newest commit in the data file's meta pages, as lmdb reads them now. */
export function newestCommitOf(root: RootDatabase): number {
  return (root as unknown as { env: EnvironmentHandle }).env.info().lastTxnId;
}

/**
 * Thrown inside a write transaction that started behind the last commit, so that nothing of
 * it is committed. `repaired`: the shared id was set right from inside it, under LMDB's write
 * lock, so the next transaction starts from the newest commit.
 */
export class StaleWriteTransaction extends Error {
  constructor(
    readonly txnId: number,
    readonly repaired: boolean,
  ) {
    super(`write transaction ${txnId} started behind the last commit`);
  }
}

const LMDB_MAIN = createRequire(import.meta.url).resolve('lmdb');

/**
 * Run by a child process, which holds no lock of its own on lock.mdb: this process must not
 * open and close a descriptor of that file, as closing it would drop the locks its
 * environment holds. When the shared id is behind the newest meta page, opening the
 * environment sets it from the meta pages again. The meta pages are read first: a commit in
 * between then only moves the shared id on, never makes it look behind.
 */
const RESET_WHEN_BEHIND = `const fs = require('node:fs');
const { open } = require(process.argv[1]);
const path = process.argv[2];
const read = (file, length, offset) => {
  const fd = fs.openSync(file, 'r');
  try {
    const bytes = Buffer.alloc(length);
    fs.readSync(fd, bytes, 0, length, offset);
    return bytes;
  } finally {
    fs.closeSync(fd);
  }
};
const first = read(path + '/data.mdb', ${META_TXNID_AT + 8}, 0);
const second = read(path + '/data.mdb', ${META_TXNID_AT + 8}, first.readUInt32LE(${PAGE_SIZE_AT}));
const newest = [first, second].map((meta) => meta.readBigUInt64LE(${META_TXNID_AT})).reduce((a, b) => (a > b ? a : b));
const shared = read(path + '/lock.mdb', 8, ${LOCK_TXNID_AT}).readBigUInt64LE(0);
if (shared >= newest) process.exit(0);
open({ path, readOnly: true }).close().then(() => process.exit(0));`;

/**
 * Sets the shared id forward to the newest commit in the data file when it is behind, for a
 * process that cannot take LMDB's write lock to do it itself (a read-only one, or one whose
 * commit waits on the id). LMDB does that when an environment is opened, and this process
 * cannot open its own environment a second time, so a child process checks and opens.
 * Writes that start meanwhile refuse to commit from the old state, in every process of this
 * package.
 */
export function resetLastTxn(path: string, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', RESET_WHEN_BEHIND, LMDB_MAIN, path], { timeout: timeoutMs }, (error, _stdout, stderr) =>
      error ? reject(new Error(`resetting LMDB's last transaction id of ${path} failed: ${stderr || error.message}`)) : resolve(),
    );
  });
}
