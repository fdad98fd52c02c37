import { Audited, Composite, Entity, Field, Historize, Index } from '../../../../lib/index.js';
import type { VerifyReport } from '../../../../lib/index.js';
import type { StoredRecord } from '../../../../lib/storage/entity-event.interface.js';
import type { IndexKey } from '../../../../lib/storage/index-key.util.js';
import { makeTempDir } from '../../../support/temp-dir.util.js';
import { listedAuditId } from '../../../../lib/storage/record-listing.util.js';
import { dump, openStore, type OpenStore } from './store-harness.util.js';

@Entity('vf-permits')
@Audited()
@Historize('full')
@Composite(['county', 'status'])
class Permit {
  @Field() @Index({ unique: true }) number!: string;
  @Field() county!: string;
  @Field() status!: string;
  @Field({ required: false }) @Historize({ versions: 2 }) note?: string;
}

@Entity('vf-notes')
class Note {
  @Field() text!: string;
}

const STRAY_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

describe('EntityStorage.verify', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore;
  let permits: Array<StoredRecord<Record<string, unknown>>>;

  beforeEach(async () => {
    dir = makeTempDir();
    store = await openStore(dir.path, [Permit, Note]);
    const repo = store.repo(Permit);
    const created = await repo.createMany([
      { number: 'P-1', county: 'Kent', status: 'draft' },
      { number: 'P-2', county: 'Kent', status: 'issued' },
      { number: 'P-3', county: 'Essex', status: 'draft' },
      { number: 'P-4', county: 'Essex', status: 'draft' },
    ]);
    await repo.update(created[0]!.id, { status: 'review', note: 'a' });
    await repo.update(created[0]!.id, { note: 'b' }, { actor: 'alice' });
    await repo.update(created[0]!.id, { note: 'c' });
    await repo.replace(created[1]!.id, { number: 'P-2', county: 'Surrey', status: 'issued' });
    await repo.delete(created[3]!.id);
    await store.repo(Note).create({ text: 'x' });
    permits = (await repo.find()).items as never;
  });

  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  const tables = () => store.storage.tablesOf(store.storage.definitionOf(Permit));
  const indexDb = (name: string) => tables().indexes.find(({ index }) => index.name === name)!.db;
  const corrupt = (change: () => void) => store.environment.write(change);

  /** verify() fails and one of its problems names the entity and every given word (record ids, index names). */
  function expectProblem(report: VerifyReport, ...words: string[]): void {
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            ['vf-permits', ...words]
              .map(escape)
              .map((w) => `(?=.*${w})`)
              .join(''),
          ),
        ),
      ]),
    );
  }

  it('finds nothing wrong after a workload of creates, updates, replaces and deletes', () => {
    const report = store.storage.verify();
    expect(report).toEqual({
      ok: true,
      problems: [],
      // vf-notes is not audited: 4 creates, 3 updates, a replace and a delete of permits.
      checked: { records: 4, indexEntries: 6, historyEntries: expect.any(Number), events: 10, auditEntries: 9, grants: 0 },
    });
    expect(report.checked.historyEntries).toBeGreaterThan(0);
  });

  it('reports an index entry that was removed, naming the record and the index', async () => {
    const [permit] = permits;
    await corrupt(() => indexDb('number').removeSync([permit!['number'] as string, permit!.id]));
    expectProblem(store.storage.verify(), permit!.id, 'number');
  });

  it('reports a stray index entry for a record that does not exist', async () => {
    await corrupt(() => indexDb('county_status').putSync(['Kent', 'draft', STRAY_ID] as IndexKey, null));
    expectProblem(store.storage.verify(), STRAY_ID, 'county_status');
  });

  it('reports a stray index entry that disagrees with its record', async () => {
    const permit = permits[1]!;
    await corrupt(() => indexDb('county_status').putSync(['Nowhere', 'draft', permit.id] as IndexKey, null));
    expectProblem(store.storage.verify(), permit.id, 'county_status');
  });

  it("reports a record whose version was changed behind the log's back", async () => {
    const permit = permits[0]!;
    await corrupt(() => tables().records.putSync(permit.id, { ...permit, version: permit.version + 5 }));
    expectProblem(store.storage.verify(), permit.id, String(permit.version + 5));
  });

  it("reports a record whose values were changed behind the log's back, at the same version, naming the fields", async () => {
    const stored = (id: string) => tables().records.get(id)!;
    const [edited, dated] = [stored(permits[0]!.id), stored(permits[1]!.id)];
    await corrupt(() => {
      tables().records.putSync(edited.id, { ...edited, note: 'tampered', extra: 1 });
      tables().records.putSync(dated.id, { ...dated, updatedAt: '2001-01-01T00:00:00.000Z' });
    });
    const report = store.storage.verify();
    expectProblem(report, edited.id, 'note, extra');
    expectProblem(report, dated.id, 'updatedAt');
    expect(report.problems).toHaveLength(2);
  });

  it('reports a second record with a duplicate unique value put straight into the records db', async () => {
    const permit = permits[0]!;
    await corrupt(() => tables().records.putSync(STRAY_ID, { ...permit, id: STRAY_ID }));
    expectProblem(store.storage.verify(), STRAY_ID);
  });

  it('reports the broken unique constraint of a duplicate put straight into the records db, naming both records', async () => {
    const permit = permits[0]!;
    await corrupt(() => tables().records.putSync(STRAY_ID, { ...permit, id: STRAY_ID }));
    expectProblem(store.storage.verify(), 'unique', 'number', permit.id, STRAY_ID);
  });

  it('reports a duplicate unique value present in both the records and the index', async () => {
    const permit = permits[0]!;
    await corrupt(() => {
      tables().records.putSync(STRAY_ID, { ...permit, id: STRAY_ID });
      for (const { index, db } of tables().indexes) {
        db.putSync([...index.fields.map((field) => permit[field] as string), STRAY_ID] as IndexKey, null);
      }
    });
    expectProblem(store.storage.verify(), 'unique', 'number', permit.id, STRAY_ID);
  });

  it("reports a record removed behind the log's back", async () => {
    const permit = permits[2]!;
    await corrupt(() => {
      tables().records.removeSync(permit.id);
      for (const { index, db } of tables().indexes) db.removeSync([...index.fields.map((field) => permit[field] as string), permit.id] as IndexKey);
    });
    expectProblem(store.storage.verify(), permit.id);
  });

  it('reports a gap in the event log', async () => {
    await corrupt(() => store.environment.database('_log').removeSync(3 as never));
    const report = store.storage.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(expect.arrayContaining([expect.stringMatching(/seq 4 .*3/)]));
  });
});

describe('EntityStorage.verify on the audit trail', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let store: OpenStore;
  let first: StoredRecord<Record<string, unknown>>;
  let second: StoredRecord<Record<string, unknown>>;

  beforeEach(async () => {
    dir = makeTempDir();
    store = await openStore(dir.path, [Permit]);
    const repo = store.repo(Permit);
    first = (await repo.create({ number: 'A-1', county: 'Kent', status: 'draft' }, { actor: 'alice' })) as never;
    await repo.update(first.id, { status: 'review' }, { actor: 'bob' });
    second = (await repo.create({ number: 'A-2', county: 'Kent', status: 'draft' })) as never;
    expect(store.storage.verify()).toMatchObject({ ok: true, checked: { auditEntries: 3 } });
  });

  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  const corrupt = (change: () => void) => store.environment.write(change);
  const listing = () => store.environment.database<null, IndexKey>('_log.by-record');
  /** The listing keys of a record's audit entries: `[entity, id, seq, auditId]`. */
  const auditKeys = (id: string) =>
    (dump(store, '_log.by-record').map(({ key }) => key) as unknown[][]).filter((key) => key[1] === id && listedAuditId(key) !== undefined);

  it('reports an entry its record listing names but the trail does not hold, and the count that no longer adds up', async () => {
    const [, , , auditId] = auditKeys(first.id)[0]! as [string, string, number, string];
    await corrupt(() => store.environment.database('_audit').removeSync(auditId as never));
    expect(store.storage.verify().problems).toEqual([
      `vf-permits ${first.id}: the record listing lists audit entry ${auditId}, which the trail does not hold`,
      'audit trail: holds 2 entries, its record listings name 3',
      `audit trail: actor alice is listed with entry ${auditId}, which the trail does not hold`,
    ]);
  });

  it('reports an entry no record listing names', async () => {
    await corrupt(() => listing().removeSync(auditKeys(second.id)[0]! as IndexKey));
    expect(store.storage.verify().problems).toEqual(['audit trail: holds 3 entries, its record listings name 2']);
  });

  it('reports an entry listed both beside its change and in _audit.byRecord, even when another goes unlisted', async () => {
    const [entity, id, , auditId] = auditKeys(second.id)[0]! as [string, string, number, string];
    await corrupt(() => {
      listing().removeSync(auditKeys(first.id)[0]! as IndexKey);
      store.environment.database('_audit.byRecord').putSync([entity, id, auditId] as never, null as never);
    });
    expect(store.storage.verify().problems).toEqual([
      `vf-permits ${second.id}: audit entry ${auditId} is listed both beside its change and in _audit.byRecord`,
    ]);
  });

  it("reports an entry listed under another record, and beside another change's event", async () => {
    const [entity, , seq, auditId] = auditKeys(first.id)[0]! as [string, string, number, string];
    await corrupt(() => {
      listing().removeSync(auditKeys(first.id)[0]! as IndexKey);
      listing().putSync([entity, second.id, seq, auditId], null);
    });
    expect(store.storage.verify().problems).toEqual([
      `vf-permits ${second.id}: the record listing lists audit entry ${auditId}, which is another record's`,
      `vf-permits ${second.id}: audit entry ${auditId} is listed beside event ${seq}, which is another change's`,
    ]);
  });

  it('reports an entry listed twice under its record', async () => {
    const [entity, id, seq, auditId] = auditKeys(first.id)[0]! as [string, string, number, string];
    await corrupt(() => listing().putSync([entity, id, seq + 1, auditId], null));
    expect(store.storage.verify().problems).toEqual([
      `vf-permits ${first.id}: audit entry ${auditId} is listed beside event ${seq + 1}, which is another change's`,
      'audit trail: holds 3 entries, its record listings name 4',
    ]);
  });

  it('reports an entry missing from its actor listing, and an actor listing naming another actor', async () => {
    const [, , , auditId] = auditKeys(first.id)[1]! as [string, string, number, string];
    await corrupt(() => {
      store.environment.database('_audit.byActor').removeSync(['bob', auditId] as never);
      store.environment.database('_audit.byActor').putSync(['carol', auditId] as never, null as never);
    });
    expect(store.storage.verify().problems).toEqual([
      `audit entry ${auditId}: not listed under its actor bob`,
      `audit trail: actor carol is listed with entry ${auditId}, which is another actor's`,
    ]);
  });

  it('checks the entries listed in _audit.byRecord (refused writes, with or without an actor) too', async () => {
    await store.audit.recordDenied({ entity: 'vf-permits', id: second.id, actor: 'mallory' });
    await store.audit.recordDenied({ entity: 'vf-permits', id: second.id });
    expect(store.storage.verify()).toMatchObject({ ok: true, checked: { auditEntries: 5 } });
    const [key] = dump(store, '_audit.byRecord').map(({ key }) => key) as [string, string, string][];
    await corrupt(() => {
      store.environment.database('_audit.byRecord').removeSync(key as never);
      store.environment.database('_audit.byRecord').putSync([key![0], first.id, key![2]] as never, null as never);
    });
    expect(store.storage.verify().problems).toEqual([`vf-permits ${first.id}: _audit.byRecord lists audit entry ${key![2]}, which is another record's`]);
  });

  it('accepts the entries of compacted events, listed below the log', async () => {
    await store.environment.write(() => store.storage.log.compact({ maxEvents: 1 }, Date.now(), 10_000));
    expect(store.storage.verify()).toMatchObject({ ok: true, problems: [], checked: { events: 1, auditEntries: 3 } });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
