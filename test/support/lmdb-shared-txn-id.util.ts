import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Writes LMDB's shared last transaction id (`mti_txnid`, after the lock file's magic and format)
 * one lower, as an open racing a commit does (ITS#9496), from another process: closing a
 * descriptor of the lock file here would drop the file locks this process's environment holds
 * on it.
 */
export function setLastTxnBack(dataPath: string): void {
  const script = `const fs = require('node:fs');
const fd = fs.openSync(process.argv[1], 'r+');
const id = Buffer.alloc(8);
fs.readSync(fd, id, 0, 8, 8);
id.writeBigUInt64LE(id.readBigUInt64LE(0) - 1n);
fs.writeSync(fd, id, 0, 8, 8);`;
  execFileSync(process.execPath, ['-e', script, join(dataPath, 'lock.mdb')]);
}

/** The shared last transaction id, read from another process (see `setLastTxnBack`). */
export function sharedLastTxn(dataPath: string): number {
  const script = `const fs = require('node:fs');
const fd = fs.openSync(process.argv[1], 'r');
const id = Buffer.alloc(8);
fs.readSync(fd, id, 0, 8, 8);
process.stdout.write(String(id.readBigUInt64LE(0)));`;
  return Number(execFileSync(process.execPath, ['-e', script, join(dataPath, 'lock.mdb')], { encoding: 'utf8' }));
}
