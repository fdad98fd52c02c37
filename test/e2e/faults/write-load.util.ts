import type { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import type { StoredRecord } from '../../../lib/storage/entity-event.interface.js';
import { ADMIN, type SampleProcess } from '../../support/sample-process.util.js';
import type { Findings } from './findings.util.js';

type Kind = 'create' | 'update' | 'delete' | 'read';

/** One request of the load and how it ended. */
export interface Attempt {
  kind: Kind;
  startedAt: number;
  endedAt: number;
  /** The HTTP status, or why there was none. */
  status: number | 'no answer' | 'connection lost';
  message?: string;
}

/** A permit as its client last had it acknowledged. */
interface Tracked {
  id: string;
  number: string;
  version: number;
  deleted: boolean;
  /** A delete was sent: LMDB makes a commit visible a moment before its sync answers, so a read may already see it gone. */
  deleting?: boolean;
}

/** A write answered with neither 2xx nor a 4xx: the store decides what happened. */
interface Unsure {
  kind: 'create' | 'update' | 'delete';
  number: string;
  id?: string;
  versionBefore?: number;
  status: Attempt['status'];
  /** Its answer said nothing was changed; then nothing may have been. */
  claimedUnchanged: boolean;
}

export interface WriteLoadOptions {
  clients: number;
  /** Prefix of permit numbers, so two loads never collide. */
  prefix: string;
  /** How long a request may go unanswered before it counts as hanging. */
  answerMs: number;
  /** Bytes of `internalNotes` on each create (a hidden field), to fill a disk faster. */
  notesBytes?: number;
}

export function isSuccess(status: Attempt['status']): boolean {
  return typeof status === 'number' && status >= 200 && status < 300;
}

/**
 * Clients that each create, update (If-Match), delete and read their own permits against
 * one sample process, keeping every acknowledged state. Each record has one writer, so its
 * acknowledged version is exactly what the store must hold; a write without a clear answer
 * makes its client leave that record alone from then on.
 */
export class WriteLoad {
  readonly attempts: Attempt[] = [];
  /** Answers to reads that did not hold the acknowledged state (reads without an answer are in `attempts`). */
  readonly wrongReads: string[] = [];
  private readonly tracked = new Map<string, Tracked>();
  private readonly unsure: Unsure[] = [];
  private running = false;
  private clients: Promise<void>[] = [];
  private serial = 0;

  constructor(
    private readonly app: SampleProcess,
    private readonly options: WriteLoadOptions,
  ) {}

  start(): void {
    this.running = true;
    this.clients = Array.from({ length: this.options.clients }, (_, client) => this.client(client));
  }

  /** Stops sending and resolves once every request in flight has ended. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.clients);
  }

  /**
   * Reads every acknowledged, undeleted permit once, while the clients go on: each must come
   * back 200 with at least the version acknowledged when the read was sent, unless its client
   * deleted it (or tried to) meanwhile. Returns how many.
   */
  async readAcknowledged(): Promise<number> {
    const live = [...this.tracked.values()].filter((record) => !record.deleted);
    for (const record of live) {
      const acknowledged = record.version;
      const { attempt, body } = await this.send('read', 'GET', `/permits/${record.id}`);
      const goneMeanwhile = attempt.status === 404 && (record.deleted || record.deleting === true);
      if (typeof attempt.status === 'number' && !goneMeanwhile && (attempt.status !== 200 || !(body?.version >= acknowledged))) {
        this.wrongReads.push(`GET ${record.number} (acknowledged v${acknowledged}): ${attempt.status} ${attempt.message ?? `v${body?.version}`}`);
      }
    }
    return live.length;
  }

  get acknowledgedWrites(): number {
    return this.attempts.filter((attempt) => attempt.kind !== 'read' && isSuccess(attempt.status)).length;
  }

  get unsureWrites(): number {
    return this.unsure.length;
  }

  /**
   * Adds to `findings` what the store (opened after the process stopped) holds against an
   * answer: verify() problems, acknowledged states not there exactly, and writes answered
   * "nothing was changed" that changed something.
   */
  checkStore(storage: EntityStorage, findings: Findings): void {
    const definition = storage.registered().find((candidate) => candidate.name === 'permits')!;
    const records = storage.tablesOf(definition).records;
    const byNumber = new Map<unknown, StoredRecord>();
    for (const { value } of records.getRange({})) byNumber.set(value.number, value);
    for (const problem of storage.verify().problems) findings.add('verify() reports a problem', problem);
    for (const record of this.tracked.values()) {
      const stored = records.get(record.id);
      const expected = record.deleted ? 'deleted' : `v${record.version}`;
      const found = stored ? `v${stored.version}` : 'deleted';
      if (expected !== found) findings.add('an acknowledged write is not in the store', `${record.number}: acknowledged ${expected}, found ${found}`);
    }
    for (const write of this.unsure) {
      if (!write.claimedUnchanged) continue;
      const stored = write.id === undefined ? byNumber.get(write.number) : records.get(write.id);
      const changed = write.kind === 'create' ? stored !== undefined : write.kind === 'update' ? stored?.version !== write.versionBefore : stored === undefined;
      if (changed) {
        findings.add(
          'a write answered "nothing was changed" is in the store',
          `${write.kind} ${write.number} answered ${write.status}, store: ${stored ? `v${stored.version}` : 'deleted'}`,
        );
      }
    }
  }

  private async client(client: number): Promise<void> {
    const own: Tracked[] = [];
    while (this.running) {
      const roll = Math.random();
      if (own.length < 2 || roll < 0.4) await this.create(client, own);
      else {
        const index = Math.floor(Math.random() * own.length);
        if (roll < 0.75) await this.update(own, index);
        else if (roll < 0.85) await this.delete(own, index);
        else await this.read(own[index]!);
      }
    }
  }

  private async create(client: number, own: Tracked[]): Promise<void> {
    const number = `${this.options.prefix}-${client}-${this.serial++}`;
    const notes = this.options.notesBytes ? { internalNotes: 'n'.repeat(this.options.notesBytes) } : {};
    const { attempt, body } = await this.send('create', 'POST', '/permits', { number, client: `client-${client}`, county: 'Travis', ...notes });
    if (isSuccess(attempt.status)) {
      const record = { id: body.id, number, version: body.version, deleted: false };
      own.push(record);
      this.tracked.set(record.id, record);
    } else if (!isRefusal(attempt)) {
      this.unsure.push({ kind: 'create', number, status: attempt.status, claimedUnchanged: claimsUnchanged(attempt) });
    }
  }

  private async update(own: Tracked[], index: number): Promise<void> {
    const record = own[index]!;
    const { attempt, body } = await this.send('update', 'PATCH', `/permits/${record.id}`, { client: `v${this.serial++}` }, ifMatch(record));
    if (isSuccess(attempt.status)) record.version = body.version;
    else this.leave(own, index, 'update', attempt);
  }

  private async delete(own: Tracked[], index: number): Promise<void> {
    const record = own[index]!;
    record.deleting = true;
    const { attempt } = await this.send('delete', 'DELETE', `/permits/${record.id}`, undefined, ifMatch(record));
    if (!isSuccess(attempt.status)) {
      if (isRefusal(attempt)) record.deleting = false;
      return this.leave(own, index, 'delete', attempt);
    }
    record.deleted = true;
    own.splice(index, 1);
  }

  private async read(record: Tracked): Promise<void> {
    const { attempt, body } = await this.send('read', 'GET', `/permits/${record.id}`);
    if (typeof attempt.status === 'number' && (attempt.status !== 200 || body?.version !== record.version)) {
      this.wrongReads.push(`GET ${record.number} (acknowledged v${record.version}): ${attempt.status} ${attempt.message ?? `v${body?.version}`}`);
    }
  }

  /**
   * A write on `own[index]` failed: its client stops touching the record. After a 4xx the
   * acknowledged state must still be there; otherwise the write's outcome is the store's.
   */
  private leave(own: Tracked[], index: number, kind: 'update' | 'delete', attempt: Attempt): void {
    const [record] = own.splice(index, 1);
    if (isRefusal(attempt)) return;
    this.tracked.delete(record!.id);
    this.unsure.push({
      kind,
      number: record!.number,
      id: record!.id,
      versionBefore: record!.version,
      status: attempt.status,
      claimedUnchanged: claimsUnchanged(attempt),
    });
  }

  private async send(
    kind: Kind,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ attempt: Attempt; body?: any }> {
    const startedAt = Date.now();
    let status: Attempt['status'];
    let parsed: any;
    try {
      const response = await fetch(`${this.app.base}${path}`, {
        method,
        headers: { 'x-user': ADMIN, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.answerMs),
      });
      const text = await response.text();
      status = response.status;
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch (error) {
      status = (error as Error).name === 'TimeoutError' ? 'no answer' : 'connection lost';
    }
    const attempt: Attempt = {
      kind,
      startedAt,
      endedAt: Date.now(),
      status,
      ...(!isSuccess(status) && parsed?.message && { message: String(parsed.message) }),
    };
    this.attempts.push(attempt);
    return { attempt, body: parsed };
  }
}

function ifMatch(record: Tracked): Record<string, string> {
  return { 'if-match': `"${record.version}"` };
}

/** A 4xx: the package refused the write before changing anything (the load expects none). */
function isRefusal(attempt: Attempt): boolean {
  return typeof attempt.status === 'number' && attempt.status >= 400 && attempt.status < 500;
}

function claimsUnchanged(attempt: Attempt): boolean {
  return typeof attempt.status === 'number' && /nothing was changed/i.test(attempt.message ?? '');
}
