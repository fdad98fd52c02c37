import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { readdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { META_TXNID_AT, PAGE_SIZE_AT } from '../../../lib/storage/lmdb-data-file.util.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { setLastTxnBack, sharedLastTxn } from '../../support/lmdb-shared-txn-id.util.js';
import { StorageFailureException } from '../../../lib/storage/storage-failure.exception.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

describe('LmdbEnvironment.write', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let environment: LmdbEnvironment;

  beforeEach(() => {
    dir = makeTempDir();
    environment = new LmdbEnvironment(dir.path);
    environment.open(4);
  });

  afterEach(async () => {
    await environment.close();
    dir.remove();
  });

  it('resolves with what the transaction returned, once it is durable', async () => {
    const db = environment.database<{ n: number }, string>('things');
    await expect(environment.write(() => (db.putSync('a', { n: 1 }), 'done'))).resolves.toBe('done');
    expect(db.get('a')).toEqual({ n: 1 });
  });

  // What a process opening the store during a commit does to LMDB 3.5's shared record of the
  // last commit (ITS#9496, still in lmdb's fork): the next write once started from the state
  // before that commit and overwrote it, acknowledged or not.
  it('never commits from behind the last commit when another opener set LMDB back by one', async () => {
    const db = environment.database<{ n: number }, string>('things');
    await environment.write(() => db.putSync('a', { n: 1 }));
    await environment.write(() => db.putSync('b', { n: 2 }));
    setLastTxnBack(dir.path);
    await environment.write(() => db.putSync('c', { n: 3 }));
    await environment.write(() => db.putSync('d', { n: 4 }));
    expect(['a', 'b', 'c', 'd'].map((key) => db.get(key)?.n)).toEqual([1, 2, 3, 4]);
  });

  it('reads the newest commit again soon after an open of its own set LMDB back by one', async () => {
    const db = environment.database<{ n: number }, string>('things');
    await environment.write(() => db.putSync('a', { n: 1 }));
    setLastTxnBack(dir.path);
    // lmdb shares the environment within a process, so this open checks without opening anew.
    const reader = new LmdbEnvironment(dir.path, {}, true);
    reader.open(4);
    try {
      const things = reader.database<{ n: number }, string>('things');
      const deadline = Date.now() + 10_000;
      while (things.get('a') === undefined && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        reader.renewSnapshot();
      }
      expect(things.get('a')).toEqual({ n: 1 });
    } finally {
      await reader.close();
    }
  });

  // lmdb shares the environment within a process, so the second open finds what the test set.
  it('catches up, before callers read, when a writable open of its own finds LMDB set back', async () => {
    const db = environment.database<{ n: number }, string>('things');
    await environment.write(() => db.putSync('a', { n: 1 }));
    setLastTxnBack(dir.path);
    const second = new LmdbEnvironment(dir.path);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      second.open(4);
      await second.caughtUp();
      // Set right by a write of its own, not by a child process.
      expect(warn.mock.calls.map(([message]) => String(message))).toEqual([
        expect.stringMatching(/set LMDB's last transaction back .*: setting it right$/),
        expect.stringMatching(/behind the last commit .*: set it right before writing again$/),
      ]);
    } finally {
      warn.mockRestore();
    }
    try {
      second.renewSnapshot();
      expect(second.database<{ n: number }, string>('things').get('a')).toEqual({ n: 1 });
      expect(sharedLastTxn(dir.path)).toBe(newestCommit(dir.path));
    } finally {
      await second.close();
    }
  });

  it('sets LMDB right from inside the write that found its transaction behind, with no child process', async () => {
    const db = environment.database<{ n: number }, string>('things');
    await environment.write(() => db.putSync('a', { n: 1 }));
    setLastTxnBack(dir.path);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await environment.write(() => db.putSync('b', { n: 2 }));
      expect(warn.mock.calls.map(([message]) => String(message))).toEqual([expect.stringContaining('behind the last commit')]);
      expect(String(warn.mock.calls[0]![0])).toMatch(/: set it right before writing again$/);
    } finally {
      warn.mockRestore();
    }
    environment.renewSnapshot();
    expect([db.get('a'), db.get('b')]).toEqual([{ n: 1 }, { n: 2 }]);
    expect(sharedLastTxn(dir.path)).toBe(newestCommit(dir.path));
  });

  // Closing any descriptor of lock.mdb drops the file locks the process's LMDB holds on it.
  it('keeps its descriptor of lock.mdb while any environment of the process is open on the directory', async () => {
    const reader = new LmdbEnvironment(dir.path, {}, true);
    reader.open(4);
    // Another path to the same directory is the same environment to lmdb.
    const alias = join(dir.path, 'alias');
    symlinkSync(dir.path, alias);
    const aliased = new LmdbEnvironment(alias, {}, true);
    aliased.open(4);
    const opened = lockFileDescriptors(dir.path);
    expect(opened).toBeGreaterThanOrEqual(2);
    await aliased.close();
    expect(lockFileDescriptors(dir.path)).toBe(opened);
    await reader.close();
    expect(lockFileDescriptors(dir.path)).toBe(opened);
    await environment.close();
    expect(lockFileDescriptors(dir.path)).toBe(0);
  });

  // Taken then, the copy held the older snapshot's pages under the newest meta pages: a file
  // shorter than its meta page says, which crashes whoever maps it.
  it('backs up the newest commit whole while another opener has set LMDB back by one', async () => {
    const db = environment.database<{ text: string }, string>('things');
    await environment.write(() => db.putSync('small', { text: 'x' }));
    // Its pages lie past the end of the file as it was before: the copy must reach them.
    await environment.write(() => db.putSync('large', { text: 'y'.repeat(1 << 20) }));
    setLastTxnBack(dir.path);
    const target = join(dir.path, 'copy');
    await environment.backup(target);
    const copy = new LmdbEnvironment(target, {}, true);
    copy.open(4);
    try {
      expect(copy.database<{ text: string }, string>('things').get('large')?.text.length).toBe(1 << 20);
    } finally {
      await copy.close();
    }
  });

  // Writes once raced against a promise that only settles when the store stops; each race left
  // its reaction, holding the write's result, on that promise for the life of the process.
  it('keeps nothing of a finished write: its result can be collected', async () => {
    const results = await weaklyHeldResults(environment, 50);
    // Weak references are kept alive until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(results.flatMap((ref, i) => (ref.deref() ? [i] : []))).toEqual([]);
  });
});

describe('LmdbEnvironment.database', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let environment: LmdbEnvironment;

  beforeEach(() => {
    dir = makeTempDir();
    environment = new LmdbEnvironment(dir.path);
    environment.open(2);
  });

  afterEach(async () => {
    await environment.close();
    dir.remove();
  });

  it("explains a database the store was not opened for, keeping lmdb's error as the cause", () => {
    environment.database('first');
    environment.database('second');
    let failure: unknown;
    try {
      environment.database('third');
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(StorageFailureException);
    expect((failure as Error).message).toMatch(/opened for fewer databases than database third needs: import every module registering entities/);
    expect(((failure as Error).cause as { code?: unknown }).code).toBe(-30791);
  });

  it('creates no database once a failure stopped its writes, and keeps serving those it opened', async () => {
    const opened = environment.database<{ n: number }, string>('first');
    await environment.write(() => opened.putSync('a', { n: 1 }));
    const failure = new StorageFailureException('the disk failed', false);
    environment.stop(failure);
    expect(() => environment.database('second')).toThrow(failure);
    expect(environment.hasDatabase('second')).toBe(false);
    expect(environment.database('first').get('a')).toEqual({ n: 1 });
  });
});

/** Makes `count` writes and keeps their results only weakly; in its own frame, so no register of the test holds one. */
async function weaklyHeldResults(environment: LmdbEnvironment, count: number): Promise<WeakRef<object>[]> {
  const db = environment.database<{ n: number }, string>('things');
  const results: WeakRef<object>[] = [];
  for (let i = 0; i < count; i++) {
    const result = await environment.write(() => {
      db.putSync(`k${i}`, { n: i });
      return { payload: 'x'.repeat(1000), i };
    });
    results.push(new WeakRef(result));
  }
  return results;
}

/** Descriptors of this process open on the directory's lock.mdb. */
function lockFileDescriptors(dataPath: string): number {
  const lockFile = join(realpathSync(dataPath), 'lock.mdb');
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === lockFile;
    } catch {
      return false;
    }
  }).length;
}

/** The id of the newest commit in the data file's two meta pages. */
function newestCommit(dataPath: string): number {
  const file = readFileSync(join(dataPath, 'data.mdb'));
  const pageSize = file.readUInt32LE(PAGE_SIZE_AT);
  return Math.max(Number(file.readBigUInt64LE(META_TXNID_AT)), Number(file.readBigUInt64LE(pageSize + META_TXNID_AT)));
}
