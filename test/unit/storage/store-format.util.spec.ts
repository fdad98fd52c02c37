import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { AuditEntry } from '../../../lib/audit/audit-entry.interface.js';
import { AuditService } from '../../../lib/audit/audit.service.js';
import { Audited } from '../../../lib/decorators/audited.decorator.js';
import { Historize } from '../../../lib/decorators/historize.decorator.js';
import { EntitiesMaintenance } from '../../../lib/storage/entities-maintenance.service.js';
import { sharesStructures, STRUCTURES_KEY } from '../../../lib/storage/lmdb-open-options.util.js';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { FieldHistory } from '../../../lib/storage/field-history.store.js';
import type { IndexKey } from '../../../lib/storage/index-key.util.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { STORE_FORMAT } from '../../../lib/storage/store-format.util.js';
import { META_DB } from '../../../lib/storage/store-layout.util.js';
import { UnsupportedStoreFormatException } from '../../../lib/storage/unsupported-store-format.exception.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

/** Where format 4 counts the log's last seq. */
const LAST_SEQ_KEY: IndexKey = ['log', 'last-seq'];

@Entity('permits')
class Permit {
  @Field() number!: string;
}
const permits = createEntityDefinition(Permit);

/** Opens the store at `path` as an app would, runs `fn` on it, and closes it. */
async function withStorage<R>(path: string, fn: (storage: EntityStorage) => Promise<R>, mode: 'open' | 'attach' = 'open'): Promise<R> {
  const storage = new EntityStorage(new LmdbEnvironment(path));
  storage.register(permits);
  try {
    await (mode === 'open' ? storage.open() : storage.attach());
    return await fn(storage);
  } finally {
    await storage.close();
  }
}

/** Sets `_meta`'s format key by hand (`undefined` removes it), as another version would have left it. */
async function setFormat(path: string, format: number | undefined): Promise<void> {
  const environment = new LmdbEnvironment(path);
  environment.open(8);
  const meta = environment.database<unknown, IndexKey>(META_DB);
  await environment.write(() => (format === undefined ? meta.removeSync(['format']) : meta.putSync(['format'], format)));
  await environment.close();
}

/**
 * Leaves the store as an older version would have: `change` runs on the named databases and
 * `_meta` records `format`, in one write.
 */
async function rewriteAs<R>(path: string, format: number, names: readonly string[], change: (...databases: Database<unknown, IndexKey>[]) => R): Promise<R> {
  const environment = new LmdbEnvironment(path);
  environment.open(16);
  const meta = environment.database<unknown, IndexKey>(META_DB);
  const databases = names.map((name) => environment.database<unknown, IndexKey>(name));
  try {
    return await environment.write(() => {
      const result = change(...databases);
      meta.putSync(['format'], format);
      return result;
    });
  } finally {
    await environment.close();
  }
}

/**
 * Leaves the store as format 5 wrote it: history in `<entity>.history`, keyed `[id, field,
 * version]`, rather than listed under each record. Answers how many entries it moved.
 */
async function downgradeToFormat5(path: string): Promise<number> {
  const environment = new LmdbEnvironment(path);
  environment.open(32);
  try {
    const listing = environment.database<unknown, IndexKey>('_log.by-record');
    const history = [...listing.getRange({})].filter(({ key }) => typeof (key as unknown[])[2] === 'string');
    const entities = [...new Set(history.map(({ key }) => (key as string[])[0]!))];
    const legacy = new Map(entities.map((entity) => [entity, environment.database<unknown, IndexKey>(`${entity}.history`)]));
    const meta = environment.database<unknown, IndexKey>(META_DB);
    await environment.write(() => {
      for (const { key, value } of history) {
        const [entity, ...rest] = key as [string, ...string[]];
        listing.removeSync(key);
        legacy.get(entity)!.putSync(rest, value);
      }
      meta.putSync(['format'], 5);
    });
    return history.length;
  } finally {
    await environment.close();
  }
}

/** What `_meta` holds under `key`, read with the store opened read-only. */
async function metaValue(path: string, key: IndexKey): Promise<unknown> {
  const environment = new LmdbEnvironment(path, {}, true);
  environment.open(16);
  try {
    return environment.database<unknown, IndexKey>(META_DB).get(key);
  } finally {
    await environment.close();
  }
}

const formatOf = (path: string) => metaValue(path, ['format']);
const countedSeq = (path: string) => metaValue(path, LAST_SEQ_KEY);

describe('the store format', () => {
  let dir: ReturnType<typeof makeTempDir>;

  beforeEach(() => {
    dir = makeTempDir('nde-format-');
  });
  afterEach(() => dir.remove());

  it('is recorded when an app first opens a store', async () => {
    await withStorage(dir.path, async () => undefined);
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });

  it('is recorded on a store written before the format was, whose records stay as they were', async () => {
    const created = await withStorage(dir.path, (storage) => storage.write((tx) => tx.create(permits, { number: 'P-1' })));
    await setFormat(dir.path, undefined);
    expect(await formatOf(dir.path)).toBeUndefined();

    const read = await withStorage(dir.path, async (storage) => storage.tablesOf(permits).records.get(created.id));
    expect(read).toEqual(created);
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });

  it('is recorded by a tool that attaches to write, and not by one that only reads', async () => {
    await withStorage(dir.path, async () => undefined);
    await setFormat(dir.path, undefined);
    await withStorage(dir.path, async () => undefined, 'attach');
    expect(await formatOf(dir.path)).toBeUndefined();
    const storage = new EntityStorage(new LmdbEnvironment(dir.path));
    storage.register(permits);
    await storage.attach('cli import');
    await storage.close();
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });

  it.each(['open', 'attach'] as const)('refuses (%s) a store in a newer format, and writes nothing to it', async (mode) => {
    await withStorage(dir.path, async () => undefined);
    await setFormat(dir.path, STORE_FORMAT + 1);

    const storage = new EntityStorage(new LmdbEnvironment(dir.path));
    storage.register(permits);
    const opening = mode === 'open' ? storage.open('app') : storage.attach('cli import');
    await expect(opening).rejects.toThrow(UnsupportedStoreFormatException);
    await expect(opening).rejects.toThrow(
      `the store at ${dir.path} has format ${STORE_FORMAT + 1}, newer than the format ${STORE_FORMAT} this version of nestjs-declarative-entities reads: upgrade the package`,
    );
    expect(storage.writers()).toEqual([]);
    await storage.close();
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT + 1);
  });

  it('refuses to move an older store while a process of an older version has it open to write on this host, and not for one of this version', async () => {
    await withStorage(dir.path, async () => undefined);
    await setFormat(dir.path, STORE_FORMAT - 1);
    // As a running process of the version before listed itself: no format in its entry. The test's parent process stands in for it, alive.
    const older = { host: hostname(), pid: process.ppid, path: realpathSync(dir.path), role: 'app', since: '2026-12-01T00:00:00.000Z', token: 'older' };
    await rewriteAs(dir.path, STORE_FORMAT - 1, [META_DB], (meta) => meta.putSync(['writers', older.host, older.pid, older.token], older));

    const storage = new EntityStorage(new LmdbEnvironment(dir.path));
    storage.register(permits);
    await expect(storage.open('app')).rejects.toThrow(
      `the store at ${dir.path} is in format ${STORE_FORMAT - 1}, which this version moves to ${STORE_FORMAT}, but process ${process.ppid} on ` +
        `${older.host} (app, since ${older.since}) has it open to write in an older format: stop every process of the older version first`,
    );
    await storage.close();
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT - 1);

    // The same entry from a process of this version does not hold the move back.
    await rewriteAs(dir.path, STORE_FORMAT - 1, [META_DB], (meta) =>
      meta.putSync(['writers', older.host, older.pid, older.token], { ...older, format: STORE_FORMAT }),
    );
    await withStorage(dir.path, async () => undefined);
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });

  it('moves an older store on, with a warning, when the older writer is listed from another host, which it cannot ask', async () => {
    await withStorage(dir.path, async () => undefined);
    const elsewhere = { host: 'another-host.invalid', pid: 4242, path: realpathSync(dir.path), role: 'app', since: '2026-12-01T00:00:00.000Z', token: 'far' };
    await rewriteAs(dir.path, STORE_FORMAT - 1, [META_DB], (meta) => meta.putSync(['writers', elsewhere.host, elsewhere.pid, elsewhere.token], elsewhere));
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await withStorage(dir.path, async () => undefined);
      expect(warn).toHaveBeenCalledWith(
        `the store at ${dir.path} is in format ${STORE_FORMAT - 1}, which this version moves to ${STORE_FORMAT}, but process 4242 on another-host.invalid ` +
          `(app, since ${elsewhere.since}) is listed as writing to it in an older format: if it still runs, stop it now (this host cannot ask it)`,
      );
    } finally {
      warn.mockRestore();
    }
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });

  it("takes an older entry with this process's host and pid for a dead process's whose pid it took", async () => {
    await withStorage(dir.path, async () => undefined);
    const reused = { host: hostname(), pid: process.pid, path: realpathSync(dir.path), role: 'app', since: '2026-12-01T00:00:00.000Z', token: 'dead' };
    await rewriteAs(dir.path, STORE_FORMAT - 1, [META_DB], (meta) => meta.putSync(['writers', reused.host, reused.pid, reused.token], reused));
    await withStorage(dir.path, async () => undefined);
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });

  it('leaves other writers to a tool, whose own check (or --force) decides', async () => {
    await withStorage(dir.path, async () => undefined);
    const older = { host: hostname(), pid: process.ppid, path: realpathSync(dir.path), role: 'app', since: '2026-12-01T00:00:00.000Z', token: 'older' };
    await rewriteAs(dir.path, STORE_FORMAT - 1, [META_DB], (meta) => meta.putSync(['writers', older.host, older.pid, older.token], older));
    const tool = new EntityStorage(new LmdbEnvironment(dir.path));
    tool.register(permits);
    await tool.attach('cli import', () => undefined);
    await tool.close();
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });
});

@Entity('inspections')
@Audited()
class Inspection {
  @Field() site!: string;
  @Field() @Historize('full') result!: string;
  @Field({ required: false }) note?: string;
}
const inspections = createEntityDefinition(Inspection);

/** Everything a store holds for `inspections`, as the package reads it. */
function contentsOf(storage: EntityStorage, audit: AuditService): Promise<unknown> {
  const tables = storage.tablesOf(inspections);
  const records = [...tables.records.getRange({})].map(({ value }) => value);
  return Promise.all(records.map((record) => audit.forRecord('inspections', record.id))).then((trails) => ({
    records,
    history: records.map((record) => storage.history(inspections, record.id)),
    events: storage.events(0, 10_000),
    trails,
    verify: storage.verify(),
  }));
}

async function withAuditedStorage<R>(path: string, fn: (storage: EntityStorage, audit: AuditService) => Promise<R>): Promise<R> {
  const environment = new LmdbEnvironment(path);
  const audit = new AuditService(environment);
  const storage = new EntityStorage(environment, {}, [audit]);
  storage.register(inspections);
  try {
    await storage.open();
    return await fn(storage, audit);
  } finally {
    await storage.close();
  }
}

/**
 * Rewrites every value of the databases that share msgpack structures as format 1 wrote them
 * (each value carrying its keys, no structures entry) and marks the store format 1.
 */
function downgradeToFormat1(path: string): void {
  const root = open({ path, maxDbs: 64, compression: false, cache: false } as never) as RootDatabase;
  try {
    // Format 1 had no record listing (format 3 added it).
    const names = [...root.getKeys({})].map(String).filter((name) => sharesStructures(name) && name !== '_log.by-record');
    expect(names).toEqual(expect.arrayContaining(['_audit', '_log', 'inspections.history', 'inspections.records']));
    root.transactionSync(() => {
      for (const name of names) {
        const shared = root.openDB(name, { compression: false, cache: false, sharedStructuresKey: STRUCTURES_KEY });
        expect(shared.getBinary(STRUCTURES_KEY as never)).toBeDefined();
        const entries = [...shared.getRange({})];
        const plain = root.openDB(name, { compression: false, cache: false });
        plain.removeSync(STRUCTURES_KEY as never);
        for (const { key, value } of entries) plain.putSync(key, value);
      }
      root.openDB('_meta', { compression: false, cache: false }).putSync(['format'], 1);
    });
  } finally {
    root.close();
  }
}

describe('moving a store from format 1 to format 2', () => {
  let dir: ReturnType<typeof makeTempDir>;

  beforeEach(() => {
    dir = makeTempDir('nde-format-migration-');
  });
  afterEach(() => dir.remove());

  it('reads every record, history entry, event and audit entry format 1 wrote, writes on, and verifies clean', async () => {
    const before = await withAuditedStorage(dir.path, async (storage, audit) => {
      for (let i = 0; i < 30; i++) {
        const created = await storage.write((tx) =>
          tx.create(inspections, { site: `s${i}`, result: 'open', ...(i % 3 === 0 && { note: 'n' }) }, { actor: 'u1' }),
        );
        if (i % 2 === 0) await storage.write((tx) => tx.update(inspections, created.id, { result: 'passed' }, { actor: 'u2' }));
        if (i % 5 === 0) await storage.write((tx) => tx.delete(inspections, created.id, { actor: 'u3' }));
      }
      return contentsOf(storage, audit);
    });
    await downgradeToFormat5(dir.path);
    downgradeToFormat1(dir.path);
    expect(await formatOf(dir.path)).toBe(1);

    const after = await withAuditedStorage(dir.path, async (storage, audit) => {
      const read = await contentsOf(storage, audit);
      const added = await storage.write((tx) => tx.create(inspections, { site: 'new', result: 'open' }, { actor: 'u1' }));
      await storage.write((tx) => tx.update(inspections, (before as { records: Array<{ id: string }> }).records[0]!.id, { result: 'reopened' }));
      expect(storage.verify()).toEqual({
        ok: true,
        problems: [],
        checked: { records: 25, events: 53, historyEntries: 53, indexEntries: 0, auditEntries: 53, grants: 0 },
      });
      const stat = await new EntitiesMaintenance(storage).stat();
      expect(stat.entities.find((entity) => entity.name === 'inspections')!.records).toBe((before as { records: unknown[] }).records.length + 1);
      expect(storage.tablesOf(inspections).records.get(added.id)).toEqual(added);
      return read;
    });
    expect(after).toEqual(before);
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });
});

describe('moving a store from format 2 to format 3', () => {
  let dir: ReturnType<typeof makeTempDir>;

  beforeEach(() => {
    dir = makeTempDir('nde-format-3-');
  });
  afterEach(() => dir.remove());

  /** Leaves the store as format 2 wrote it: the same log, no per-record listing of its events. */
  async function downgradeToFormat2(path: string): Promise<void> {
    await downgradeToFormat5(path);
    return rewriteAs(path, 2, ['_log.by-record', META_DB], (listing, meta) => {
      for (const key of [...listing.getKeys({})]) listing.removeSync(key as IndexKey);
      meta!.removeSync(LAST_SEQ_KEY);
    });
  }

  it('lists every event of the log under its record, so past states read as before, and verifies clean', async () => {
    const ids = await withStorage(dir.path, async (storage) => {
      const made = [];
      for (let i = 0; i < 5; i++) {
        const record = await storage.write((tx) => tx.create(permits, { number: `P-${i}` }));
        await storage.write((tx) => tx.update(permits, record.id, { number: `P-${i}-b` }));
        made.push(record.id);
      }
      return made;
    });
    await downgradeToFormat2(dir.path);
    // Without the listing, verify sees every event unlisted: the check the migration must satisfy.
    await withStorage(dir.path, async (storage) => expect(storage.verify().problems).toHaveLength(10), 'attach');

    await withStorage(dir.path, async (storage) => {
      expect(storage.verify().problems).toEqual([]);
      for (const id of ids) {
        expect([...storage.log.recordEvents('permits', id)].map((event) => event.type)).toEqual(['created', 'updated']);
      }
    });
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });
});

describe('moving a store from format 3 to format 4', () => {
  let dir: ReturnType<typeof makeTempDir>;

  beforeEach(() => {
    dir = makeTempDir('nde-format-4-');
  });
  afterEach(() => dir.remove());

  /** Leaves the store as format 3 wrote it: no count of the log's last seq. */
  async function downgradeToFormat3(path: string): Promise<void> {
    await downgradeToFormat5(path);
    return rewriteAs(path, 3, [META_DB], (meta) => {
      meta!.removeSync(LAST_SEQ_KEY);
    });
  }

  it('counts the last seq once, then appends after it without a gap, and verifies clean', async () => {
    await withStorage(dir.path, async (storage) => {
      for (let i = 0; i < 4; i++) await storage.write((tx) => tx.create(permits, { number: `P-${i}` }));
    });
    expect(await countedSeq(dir.path)).toBe(4);
    await downgradeToFormat3(dir.path);
    expect(await countedSeq(dir.path)).toBeUndefined();

    await withStorage(dir.path, async (storage) => {
      expect(storage.log.lastSeq()).toBe(4);
      await storage.write((tx) => tx.create(permits, { number: 'P-4' }));
      expect(storage.events(0, 100).map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(storage.verify().problems).toEqual([]);
    });
    expect(await countedSeq(dir.path)).toBe(5);
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });

  it('is left as it was by a writing tool that is refused (another process writes the store in format 3)', async () => {
    await withStorage(dir.path, (storage) => storage.write((tx) => tx.create(permits, { number: 'P-0' })));
    await downgradeToFormat3(dir.path);
    const storage = new EntityStorage(new LmdbEnvironment(dir.path));
    storage.register(permits);
    const refused = storage.attach('cli import', () => {
      throw new Error('the store is open for writing by app');
    });
    await expect(refused).rejects.toThrow('the store is open for writing by app');
    await storage.close();
    expect(await formatOf(dir.path)).toBe(3);
    expect(await countedSeq(dir.path)).toBeUndefined();
  });

  it('never overwrites an event a writer of format 3 appended without counting it', async () => {
    await withStorage(dir.path, async (storage) => {
      await storage.write((tx) => tx.create(permits, { number: 'P-0' }));
      // As a process of the older version, already running on the directory, would append.
      const [first] = storage.events(0, 1);
      const log = storage.environment.database<unknown, number>('_log');
      await storage.environment.write(() => log.putSync(2, { ...first!, seq: 2, eventId: 'older-writer' }));
      expect(storage.verify().problems).toContain('event log: counts 1 as its last seq, its newest event is 2');
      // Readers (change feeds, `X-Entities-Seq`, replay) see the uncounted event.
      expect(storage.log.lastSeq()).toBe(2);

      await storage.write((tx) => tx.create(permits, { number: 'P-1' }));
      const events = storage.events(0, 100);
      expect(events.map((event) => [event.seq, event.eventId === 'older-writer'])).toEqual([
        [1, false],
        [2, true],
        [3, false],
      ]);
      expect(storage.log.lastSeq()).toBe(3);
      expect(storage.verify().problems.filter((problem) => problem.includes('last seq'))).toEqual([]);
    });
  });
});

describe('moving a store from format 4 to format 5', () => {
  let dir: ReturnType<typeof makeTempDir>;

  beforeEach(() => {
    dir = makeTempDir('nde-format-5-');
  });
  afterEach(() => dir.remove());

  /** Leaves the store as format 4 wrote it: every audit entry listed under its record in `_audit.byRecord`. */
  async function downgradeToFormat4(path: string): Promise<number> {
    await downgradeToFormat5(path);
    return rewriteAs(path, 4, ['_log.by-record', '_audit.byRecord'], (listing, byRecord) => {
      const keys = [...listing!.getKeys({})].filter((key) => (key as unknown[]).length === 4) as [string, string, number, string][];
      for (const [entity, id, seq, auditId] of keys) {
        listing!.removeSync([entity, id, seq, auditId]);
        byRecord!.putSync([entity, id, auditId], null);
      }
      return keys.length;
    });
  }

  it("reads each record's trail from both listings, lists new entries beside their events, and verifies clean", async () => {
    const before = await withAuditedStorage(dir.path, async (storage, audit) => {
      for (let i = 0; i < 6; i++) {
        const created = await storage.write((tx) => tx.create(inspections, { site: `s${i}`, result: 'open' }, { actor: 'u1' }));
        if (i % 2 === 0) await storage.write((tx) => tx.update(inspections, created.id, { result: 'passed' }, { actor: 'u2' }));
        if (i === 1) await audit.recordDenied({ entity: 'inspections', id: created.id, actor: 'u3' });
      }
      return contentsOf(storage, audit);
    });
    expect(await downgradeToFormat4(dir.path)).toBe(9);
    expect(await formatOf(dir.path)).toBe(4);

    await withAuditedStorage(dir.path, async (storage, audit) => {
      expect(await contentsOf(storage, audit)).toEqual(before);
      const [first] = (before as { records: Array<{ id: string }> }).records;
      await storage.write((tx) => tx.update(inspections, first!.id, { result: 'reopened' }, { actor: 'u2' }));
      const trail = await audit.forRecord('inspections', first!.id);
      expect(trail.map((entry) => [entry.action, entry.version])).toEqual([
        ['create', 1],
        ['update', 2],
        ['update', 3],
      ]);
      const paged: AuditEntry[] = [];
      let cursor: string | null = null;
      do {
        const page = await audit.find({ entity: 'inspections', id: first!.id, limit: 1, ...(cursor !== null && { cursor }) });
        paged.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(paged).toEqual(trail);
      expect([...storage.log.recordEvents('inspections', first!.id)].map((event) => event.version)).toEqual([1, 2, 3]);
      expect(storage.verify().problems).toEqual([]);
    });
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });
});

describe('moving a store from format 5 to format 6', () => {
  let dir: ReturnType<typeof makeTempDir>;

  beforeEach(() => {
    dir = makeTempDir('nde-format-6-');
  });
  afterEach(() => dir.remove());

  /** Writes records with history (updates, a delete, a restore-free trail), then leaves the store as format 5 wrote it. */
  async function storeInFormat5(): Promise<unknown> {
    const before = await withAuditedStorage(dir.path, async (storage, audit) => {
      for (let i = 0; i < 8; i++) {
        const created = await storage.write((tx) => tx.create(inspections, { site: `s${i}`, result: 'open' }, { actor: 'u1' }));
        for (let v = 0; v < i % 3; v++) await storage.write((tx) => tx.update(inspections, created.id, { result: `r${v}` }, { actor: 'u2' }));
        if (i === 4) await storage.write((tx) => tx.delete(inspections, created.id, { actor: 'u3' }));
      }
      return contentsOf(storage, audit);
    });
    expect(await downgradeToFormat5(dir.path)).toBeGreaterThan(8);
    expect(await formatOf(dir.path)).toBe(5);
    return before;
  }

  /** The history keys of the record listing, and the entries left in `inspections.history`. */
  async function whereHistoryIs(): Promise<{ listed: number; legacy: number }> {
    const environment = new LmdbEnvironment(dir.path, {}, true);
    environment.open(32);
    try {
      const listed = [...environment.database<unknown, IndexKey>('_log.by-record').getKeys({})].filter((key) => typeof (key as unknown[])[2] === 'string');
      return { listed: listed.length, legacy: environment.database<unknown, IndexKey>('inspections.history').getKeysCount() };
    } finally {
      await environment.close();
    }
  }

  it('moves every history entry beside its record, reads the same history, writes on there, and verifies clean', async () => {
    const before = await storeInFormat5();
    const moved = (await whereHistoryIs()).legacy;

    await withAuditedStorage(dir.path, async (storage, audit) => {
      expect(await contentsOf(storage, audit)).toEqual(before);
      const [first] = (before as { records: Array<{ id: string }> }).records;
      await storage.write((tx) => tx.update(inspections, first!.id, { result: 'reopened' }, { actor: 'u2' }));
      expect(storage.history(inspections, first!.id)!.fields['result']!.map((entry) => entry.value)).toEqual(['reopened', 'open']);
      expect(storage.verify().problems).toEqual([]);
    });
    expect(await whereHistoryIs()).toEqual({ listed: moved + 1, legacy: 0 });
    expect(await formatOf(dir.path)).toBe(STORE_FORMAT);
  });

  it('reads the history of a store a move left halfway from both places, until a writer moves the rest', async () => {
    const before = await storeInFormat5();
    // A move cut short after its first batches: some entries beside their records, the rest where format 5 kept them.
    const environment = new LmdbEnvironment(dir.path);
    environment.open(32);
    const legacy = environment.database<unknown, IndexKey>('inspections.history');
    const listing = environment.database<unknown, IndexKey>('_log.by-record');
    const half = [...legacy.getRange({})].filter((_, i) => i % 2 === 0);
    await environment.write(() => {
      for (const { key, value } of half) {
        legacy.removeSync(key);
        listing.putSync(['inspections', ...(key as string[])], value);
      }
    });
    await environment.close();

    const readOnly = new LmdbEnvironment(dir.path, {}, true);
    const reader = new EntityStorage(readOnly, {}, [new AuditService(readOnly)]);
    let deleted = '';
    let deletedHistory: ReturnType<EntityStorage['history']>;
    let ids: string[] = [];
    let pages: Array<ReturnType<EntityStorage['history']>> = [];
    const page = { limit: 2, before: 4 };
    reader.register(inspections);
    await reader.attach();
    try {
      const { records, history, events } = before as { records: Array<{ id: string }>; history: unknown[]; events: Array<{ id: string; type: string }> };
      expect(records.map((record) => reader.history(inspections, record.id))).toEqual(history);
      deleted = events.find((event) => event.type === 'deleted')!.id;
      deletedHistory = reader.history(inspections, deleted);
      // A page is read from both places too: the two newest values before version 4, per field.
      ids = [...records.map((record) => record.id), deleted];
      pages = ids.map((id) => reader.history(inspections, id, page));
      const full = ids.map((id) => reader.history(inspections, id)!.fields['result']!);
      expect(pages.map((history) => history!.fields['result'])).toEqual(full.map((entries) => entries.filter((entry) => entry.version < 4).slice(0, 2)));
      expect(full.some((entries) => entries.filter((entry) => entry.version < 4).length > 2)).toBe(true);
      expect(reader.verify()).toMatchObject({ ok: true, problems: [] });
    } finally {
      await reader.close();
    }
    expect(await formatOf(dir.path)).toBe(5);

    await withAuditedStorage(dir.path, async (storage, audit) => {
      expect(await contentsOf(storage, audit)).toEqual(before);
      // A deleted record's history (its delete marker among it) read the same from both places as from one.
      expect(storage.history(inspections, deleted)).toEqual(deletedHistory);
      expect(deletedHistory!.fields['result']!.length).toBeGreaterThan(0);
      expect(ids.map((id) => storage.history(inspections, id, page))).toEqual(pages);
    });
    expect((await whereHistoryIs()).legacy).toBe(0);
  });

  it('moves history in batches of a bounded size', async () => {
    await storeInFormat5();
    const environment = new LmdbEnvironment(dir.path);
    const storage = new EntityStorage(environment, {}, [new AuditService(environment)]);
    storage.register(inspections);
    await storage.attach();
    try {
      // attach without a writer role moves nothing: the entries are still where format 5 kept them.
      const history = storage.tablesOf(inspections).history;
      const total = (await whereHistoryIs()).legacy;
      const batches: number[] = [];
      for (let moved = -1; moved !== 0;) {
        moved = await environment.write(() => history.moveLegacyEntries(4));
        batches.push(moved);
      }
      expect(batches.slice(0, -1).every((size) => size === 4 || size === total % 4)).toBe(true);
      expect(batches.reduce((sum, size) => sum + size, 0)).toBe(total);
      expect(batches.at(-1)).toBe(0);
    } finally {
      await storage.close();
    }
    expect(await whereHistoryIs()).toMatchObject({ legacy: 0 });
  });

  it('records format 6 before it moves anything, so a move cut short is refused by older versions and finished by the next start', async () => {
    const before = await storeInFormat5();
    const moving = jest.spyOn(FieldHistory.prototype, 'moveLegacyEntries').mockImplementationOnce(() => {
      throw new Error('cut short');
    });
    try {
      await expect(withAuditedStorage(dir.path, async () => undefined)).rejects.toThrow('cut short');
    } finally {
      moving.mockRestore();
    }
    expect(await formatOf(dir.path)).toBe(6);
    expect((await whereHistoryIs()).listed).toBe(0);

    await withAuditedStorage(dir.path, async (storage, audit) => expect(await contentsOf(storage, audit)).toEqual(before));
    expect((await whereHistoryIs()).legacy).toBe(0);
  });

  it('moves the entries of an entity registered after the store opened record by record, as each changes', async () => {
    const before = (await storeInFormat5()) as { records: Array<{ id: string }>; history: unknown[] };
    const environment = new LmdbEnvironment(dir.path);
    const audit = new AuditService(environment);
    const storage = new EntityStorage(environment, {}, [audit]);
    await storage.open();
    try {
      // Not declared at the open: nothing of it moved.
      storage.register(inspections);
      expect((await whereHistoryIs()).listed).toBe(0);
      expect(before.records.map((record) => storage.history(inspections, record.id))).toEqual(before.history);
      const [first] = before.records;
      const kept = storage.history(inspections, first!.id)!.fields['result']!;
      await storage.write((tx) => tx.update(inspections, first!.id, { result: 'late' }, { actor: 'u2' }));
      expect(storage.history(inspections, first!.id)!.fields['result']!.map((entry) => entry.value)).toEqual(['late', ...kept.map((entry) => entry.value)]);
      expect((await whereHistoryIs()).listed).toBe(kept.length + 1);
      expect(storage.verify().problems).toEqual([]);
    } finally {
      await storage.close();
    }
  });
});
