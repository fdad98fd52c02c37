import * as lmdbKeys from 'lmdb';
import { open, type Database, type RootDatabase } from 'lmdb';
import { monotonicFactory } from 'ulid';

const nextId = monotonicFactory();

// The reference is plain lmdb-js code; its keys and values are whatever each put says.
type Db = Database<any, any>;

/**
 * The reference: the same logical work as the package's write path, written by hand on
 * lmdb-js. A create puts the record, its two index entries, an event, two history entries,
 * an audit entry with its per-record key and a change counter, in one child transaction,
 * then waits for `flushed`, as the package does.
 */
export class RawLmdbStore {
  readonly root: RootDatabase;
  readonly records: Db;
  private readonly unique: Db;
  private readonly composite: Db;
  private readonly log: Db;
  private readonly history: Db;
  private readonly audit: Db;
  private readonly auditByRecord: Db;
  private readonly meta: Db;

  constructor(path: string) {
    this.root = open({ path, maxDbs: 12, compression: false, cache: false, eventTurnBatching: false } as never);
    // Shared msgpack structures where the package uses them, so both decode the same bytes the same way.
    const shared = new Set(['records', 'log', 'history', 'audit']);
    const db = (name: string) =>
      this.root.openDB(name, { compression: false, cache: false, ...(shared.has(name) && { sharedStructuresKey: Symbol.for('structures') }) });
    this.records = db('records');
    this.unique = db('unique');
    this.composite = db('composite');
    this.log = db('log');
    this.history = db('history');
    this.audit = db('audit');
    this.auditByRecord = db('audit.byRecord');
    this.meta = db('meta');
  }

  async create(data: Record<string, unknown>): Promise<Record<string, unknown>> {
    const record = await this.root.childTransaction(() => {
      const id = nextId();
      const at = new Date().toISOString();
      const record = { id, version: 1, createdAt: at, updatedAt: at, ...data };
      this.records.putSync(id, record);
      this.unique.putSync([data.number, id] as never, null);
      this.composite.putSync([data.client, data.county, data.status, id] as never, null);
      this.appendEvent({ type: 'created', id, version: 1, data, at });
      this.history.putSync([id, 'status', 1] as never, { value: data.status, at });
      this.history.putSync([id, 'amount', 1] as never, { value: data.amount, at });
      const auditId = nextId();
      this.audit.putSync(auditId, { id, action: 'create', at, version: 1, changes: data });
      this.auditByRecord.putSync(['bench', id, auditId] as never, null);
      this.meta.putSync('changes', auditId);
      return record;
    });
    await this.root.flushed;
    return record as Record<string, unknown>;
  }

  async update(id: string, expectedVersion: number, patch: Record<string, unknown>): Promise<Record<string, unknown>> {
    const record = await this.root.childTransaction(() => {
      const before = this.records.get(id);
      if (!before || before.version !== expectedVersion) throw new Error('version conflict');
      const at = new Date().toISOString();
      const after: Record<string, unknown> = { ...before, ...patch, version: expectedVersion + 1, updatedAt: at };
      this.records.putSync(id, after);
      if (patch.status !== undefined && patch.status !== before.status) {
        this.composite.removeSync([before.client, before.county, before.status, id] as never);
        this.composite.putSync([after.client, after.county, after.status, id] as never, null);
      }
      this.appendEvent({ type: 'updated', id, version: after.version, data: patch, at });
      for (const field of Object.keys(patch)) this.history.putSync([id, field, after.version] as never, { value: patch[field], at });
      const auditId = nextId();
      this.audit.putSync(auditId, { id, action: 'update', at, version: after.version, changes: patch });
      this.auditByRecord.putSync(['bench', id, auditId] as never, null);
      this.meta.putSync('changes', auditId);
      return after;
    });
    await this.root.flushed;
    return record as Record<string, unknown>;
  }

  findById(id: string): Record<string, unknown> | undefined {
    return this.records.get(id);
  }

  /** Records whose composite key starts with client and county: an index range scan plus gets. */
  listByPrefix(client: string, county: string, limit: number): Record<string, unknown>[] {
    const end = Buffer.concat([Buffer.from(keyBytes([client, county])), Buffer.from([0, 0xff])]);
    const items: Record<string, unknown>[] = [];
    for (const key of this.composite.getKeys({ start: [client, county] as never, end: end as never, limit })) {
      const record = this.records.get((key as unknown[])[3] as string);
      if (record) items.push(record);
    }
    return items;
  }

  /** A filter no index serves: a walk over every record. */
  scanWhere(field: string, value: unknown, limit: number): Record<string, unknown>[] {
    const items: Record<string, unknown>[] = [];
    for (const { value: record } of this.records.getRange({})) {
      if (record[field] === value) {
        items.push(record);
        if (items.length >= limit) break;
      }
    }
    return items;
  }

  async close(): Promise<void> {
    await this.root.close();
  }

  private appendEvent(event: Record<string, unknown>): void {
    let last = 0;
    for (const key of this.log.getKeys({ reverse: true, limit: 1 })) last = key;
    this.log.putSync(last + 1, { seq: last + 1, ...event });
  }
}

/** lmdb's key encoding; exported at run time, missing from its typings. */
function keyBytes(key: unknown[]): Uint8Array {
  return (lmdbKeys as unknown as { keyValueToBuffer(key: unknown): Uint8Array }).keyValueToBuffer(key);
}
