import type { ChildProcess } from 'node:child_process';
import type { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { Permit } from '../../../sample/permit.entity.js';
import { ADMIN, call, type SampleProcess } from '../../support/sample-process.util.js';

/** What the clients were told about one permit. */
export interface AcknowledgedPermit {
  number: string;
  /** The highest version any answer acknowledged. */
  version: number;
  deleted: boolean;
  /**
   * A DELETE was sent: set before it goes out and never cleared, because it may have committed
   * though its answer never came, so the record may be gone without an acknowledged delete.
   */
  deleteSent: boolean;
  /** Which process acknowledged that version. */
  by: string;
}

/**
 * The log the fault suites keep of every acknowledged permit write, and of every create whose
 * answer never came (kept with its idempotency key, to be retried after the fault).
 */
export class AcknowledgedWrites {
  readonly permits = new Map<string, AcknowledgedPermit>();
  readonly unknownCreates = new Map<string, string>();
  count = 0;

  /** A create goes out with its idempotency key: its outcome is unknown until it is answered. */
  createSent(number: string, key: string): void {
    this.unknownCreates.set(number, key);
  }

  created(id: string, version: number, number: string, by: string): void {
    this.permits.set(id, { number, version, deleted: false, deleteSent: false, by });
    this.unknownCreates.delete(number);
    this.count++;
  }

  /** An update answered 200; answers may arrive out of order, so only a higher version moves the log. */
  updated(id: string, version: number, by: string): void {
    const permit = this.permits.get(id);
    if (permit && version > permit.version) this.permits.set(id, { ...permit, version, by });
    this.count++;
  }

  deleteSent(id: string): void {
    const permit = this.permits.get(id);
    if (permit) permit.deleteSent = true;
  }

  deleted(id: string): void {
    const permit = this.permits.get(id);
    if (permit) permit.deleted = true;
    this.count++;
  }

  /** The log as it stands now, for checking a copy of the store made from this moment on. */
  snapshot(): AcknowledgedWrites {
    const copy = new AcknowledgedWrites();
    for (const [id, permit] of this.permits) copy.permits.set(id, { ...permit });
    copy.count = this.count;
    return copy;
  }

  /** Ids no client has tried to delete. */
  live(): string[] {
    return [...this.permits].filter(([, permit]) => !permit.deleteSent).map(([id]) => id);
  }

  /**
   * Every acknowledged permit as the store on disk holds it: present with at least its
   * version, or absent when its delete was acknowledged. Returns one line per loss.
   */
  lostIn(storage: EntityStorage): string[] {
    const records = storage.tablesOf(storage.definitionOf(Permit)).records;
    const lost: string[] = [];
    for (const [id, permit] of this.permits) {
      const stored = records.get(id);
      if (permit.deleted) {
        if (stored) lost.push(`${id}: delete acknowledged, still stored at v${stored.version}`);
      } else if (!stored) {
        if (!permit.deleteSent) lost.push(`${id}: v${permit.version} acknowledged by ${permit.by}, missing`);
      } else if (stored.version < permit.version) {
        lost.push(`${id}: v${permit.version} acknowledged by ${permit.by}, stored v${stored.version}`);
      }
    }
    return lost;
  }

  /**
   * Retries every create whose answer never came with its idempotency key: the answer must be
   * 201, and the permit number must then exist exactly once. Returns one line per failure.
   */
  async retryUnknownCreates(app: SampleProcess, body: (number: string) => Record<string, unknown>): Promise<string[]> {
    const failures: string[] = [];
    for (const [number, key] of [...this.unknownCreates]) {
      const retried = await call(app, 'POST', '/permits', { user: ADMIN, body: body(number), headers: { 'idempotency-key': key } });
      if (retried.status !== 201) {
        failures.push(`${number}: retry with its key answered ${retried.status} ${JSON.stringify(retried.body)}`);
        continue;
      }
      this.created(retried.body.id, retried.body.version, number, app.name);
      const matches = await call(app, 'GET', `/permits?number=${encodeURIComponent(number)}`, { user: ADMIN });
      if (matches.body?.items?.length !== 1) failures.push(`${number}: ${matches.body?.items?.length} permits after the retry`);
    }
    return failures;
  }
}

/** Resolves once the child process is gone (at once if it already is). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
