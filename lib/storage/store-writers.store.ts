import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Database } from 'lmdb';
import { afterPrefix, type IndexKey } from './index-key.util.js';
import type { LmdbEnvironment } from './lmdb-environment.store.js';
import { STORE_FORMAT, storedFormat } from './store-format.util.js';
import { StorageFailureException } from './storage-failure.exception.js';

/** A process that has the store open to write: an app, or a command-line tool changing it. */
export interface StoreWriter {
  host: string;
  pid: number;
  /** The store's directory as the process opened it, symlinks resolved: a copy of the store lists writers of its original. */
  path: string;
  /** `app`, or the tool and command, e.g. `cli import`. */
  role: string;
  /** ISO-8601 time it opened the store. */
  since: string;
  /** Tells apart several stores opened by one process. */
  token: string;
  /** The store format its version writes (see STORE_FORMAT); absent from the entries of earlier versions. */
  format?: number;
  /** ISO-8601 time it last renewed its entry (see RENEW_EVERY); absent from the entries of earlier versions. */
  renewed?: string;
}

const WRITERS = ['writers'];
/**
 * How often a writer renews its entry while it has the store open. A process on another host
 * (in practice another container on the same volume, with a hostname of its own) cannot be
 * asked whether it runs, so its entry counts as running until it goes unrenewed this long.
 */
const RENEW_EVERY = 30_000;
/** Ten missed renewals: a process blocked that long is not writing either. */
const GONE_AFTER_UNRENEWED = 10 * RENEW_EVERY;
/** How long `withdraw` waits for its write before it lets the entry go stale. */
const WITHDRAW_TIMEOUT = 2_000;

/**
 * The list of processes that have the store open to write, kept in the store's metadata:
 * each adds itself as it opens and removes itself as it closes, so a tool can tell whether
 * an app is running on the directory before it changes anything.
 */
export class StoreWriters {
  private own?: StoreWriter;
  private renewal?: NodeJS.Timeout;

  constructor(
    private readonly environment: LmdbEnvironment,
    private readonly metaDb: string,
    private readonly renewEvery = RENEW_EVERY,
  ) {}

  /**
   * Adds this process as `role`, renewing its entry every `renewEvery` ms until `withdraw`, and
   * drops the entries that no longer hold: processes on this host that ended without removing
   * theirs (a crash, a kill), those of another host left unrenewed (a killed container), and
   * those copied along from another directory (a backup).
   */
  async enroll(role: string): Promise<void> {
    const now = new Date().toISOString();
    const writer: StoreWriter = {
      host: hostname(),
      pid: process.pid,
      path: realpathSync(this.environment.path),
      role,
      since: now,
      token: randomBytes(8).toString('hex'),
      format: STORE_FORMAT,
      renewed: now,
    };
    await this.environment.write(() => {
      for (const other of this.list()) if (!isLiveWriterOf(other, writer.path)) this.meta().removeSync(keyOf(other));
      this.meta().putSync(keyOf(writer), writer);
    });
    this.own = writer;
    clearInterval(this.renewal);
    this.renewal = setInterval(() => void this.renew(), this.renewEvery).unref();
  }

  /**
   * Puts this process's entry back with the time renewed, also when another process took it for
   * gone meanwhile. A failed renewal only ages the entry: the failure is the store's to report,
   * at the next write that needs it.
   */
  private async renew(): Promise<void> {
    const writer = this.own;
    if (!writer) return;
    const renewed: StoreWriter = { ...writer, renewed: new Date().toISOString() };
    await this.environment.write(() => this.meta().putSync(keyOf(renewed), renewed)).catch(() => undefined);
  }

  /**
   * Removes this process's entry. A store that can no longer commit (a full disk) must still
   * close, so a failure or a hang only leaves a stale entry, which tools ignore once the
   * process is gone (see `isLiveWriterOf`) and the next `enroll` removes.
   */
  async withdraw(): Promise<void> {
    const writer = this.own;
    if (!writer) return;
    this.own = undefined;
    clearInterval(this.renewal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, WITHDRAW_TIMEOUT)));
    await Promise.race([this.environment.write(() => this.meta().removeSync(keyOf(writer))).catch(() => undefined), timeout]);
    clearTimeout(timer);
  }

  /**
   * The other processes listed that may still be writing to this directory, as of the current
   * read snapshot. An entry with this process's host and pid is its own, or a dead one's whose
   * pid it took (a container's pid 1 with a stable hostname).
   */
  others(): StoreWriter[] {
    const path = realpathSync(this.environment.path);
    const host = hostname();
    return this.list().filter((writer) => !(writer.host === host && writer.pid === process.pid) && isLiveWriterOf(writer, path));
  }

  /**
   * Refuses to move a store older than this version's format while a process of an older version
   * writes to it on this host: each move needs every such process stopped (see STORE_FORMAT), or
   * it would miss or misread what the move changes. A writer that lists no format ran a version
   * before formats were listed. A writer listed from another host cannot be asked whether it
   * still runs (an older version's entry is never renewed, so it stays listed), so it is only
   * named through `warn`.
   */
  refuseOlderWriters(warn: (message: string) => void): void {
    const format = storedFormat(this.meta());
    if (format >= STORE_FORMAT) return;
    const describe = (writer: StoreWriter) => `process ${writer.pid} on ${writer.host} (${writer.role}, since ${writer.since})`;
    for (const writer of this.others()) {
      if ((writer.format ?? 0) >= STORE_FORMAT) continue;
      const moving = `the store at ${this.environment.path} is in format ${format}, which this version moves to ${STORE_FORMAT}, but ${describe(writer)}`;
      if (writer.host !== hostname()) {
        warn(`${moving} is listed as writing to it in an older format: if it still runs, stop it now (this host cannot ask it)`);
        continue;
      }
      throw new StorageFailureException(`${moving} has it open to write in an older format: stop every process of the older version first`, false);
    }
  }

  /** Every listed writer, as of the current read snapshot; some may have died since. */
  list(): StoreWriter[] {
    return [...this.meta().getRange({ start: WRITERS, end: afterPrefix(WRITERS) })].map(({ value }) => value as StoreWriter);
  }

  private meta(): Database<unknown, IndexKey> {
    return this.environment.database(this.metaDb);
  }
}

/**
 * Whether a listed writer may still be writing to the store in the directory `path` (symlinks
 * resolved). A process on another host cannot be asked, so it counts as running while it renews
 * its entry (always, for an entry of an earlier version, which never renews); on this host,
 * signal 0 tells (EPERM: it runs as another user).
 */
function isLiveWriterOf(writer: StoreWriter, path: string): boolean {
  // Another host (a container) mounts the volume where it likes, so its path says nothing; an
  // entry a backup carried from there frees itself once it goes unrenewed in the copy. Entries
  // of earlier versions are never renewed: only their path tells the copy from the original.
  if (writer.host !== hostname()) {
    const unrenewedFor = Date.now() - Date.parse(writer.renewed ?? '');
    return Number.isNaN(unrenewedFor) ? writer.path === path : unrenewedFor < GONE_AFTER_UNRENEWED;
  }
  if (writer.path !== path) return false;
  try {
    process.kill(writer.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function keyOf(writer: StoreWriter): IndexKey {
  return [...WRITERS, writer.host, writer.pid, writer.token];
}
