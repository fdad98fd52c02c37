import { Audited, Composite, Entity, Field, Historize, Index } from '../../../../lib/index.js';
import type { EntityEvent } from '../../../../lib/index.js';
import { makeTempDir } from '../../../support/temp-dir.util.js';
import { dump, dumpBinary, openStore, type OpenStore } from './store-harness.util.js';

@Entity('rp-permits')
@Audited()
@Historize({ versions: 2 })
@Composite(['county', 'status'])
class Permit {
  @Field() @Index({ unique: true }) number!: string;
  @Field() county!: string;
  @Field() status!: string;
  @Field({ required: false }) @Historize('full') note?: string;
  @Field({ required: false }) @Historize('never') amount?: number;
  @Field({ required: false, hidden: true }) secret?: string;
  @Field({ required: false }) issuedOn?: Date;
}

@Entity('rp-inspections')
@Composite(['permit', 'result'], { unique: true, name: 'permit_result' })
class Inspection {
  @Field() @Index() permit!: string;
  @Field() result!: string;
  @Field({ required: false }) @Historize('full') score?: number;
  @Field({ required: false }) active?: boolean;
}

const ENTITIES = [Permit, Inspection];

/** A bit of everything: batches, updates, replaces, clears, deletes, freed unique values, transactions, retries. */
async function workload(store: OpenStore): Promise<void> {
  const permits = store.repo(Permit);
  const inspections = store.repo(Inspection);
  const batch = await permits.createMany(
    Array.from({ length: 6 }, (_, i) => ({
      number: `P-${i}`,
      county: i % 2 ? 'Kent' : 'Essex',
      status: 'draft',
      note: `note ${i}`,
      amount: i * 10,
      ...(i % 3 === 0 && { secret: `secret ${i}` }),
    })),
    { actor: 'importer' },
  );
  const [p0, p1, p2, p3, p4, p5] = batch as [(typeof batch)[0], ...typeof batch];
  await permits.update(p0.id, { status: 'review' }, { actor: 'alice' });
  await permits.update(p0.id, { status: 'issued', issuedOn: new Date('2024-05-01T10:00:00Z') }, { actor: 'bob' });
  await permits.update(p0.id, { note: null, amount: 99 } as never, { actor: 'bob' });
  await permits.replace(p1.id, { number: 'P-1', county: 'Surrey', status: 'review', secret: 'new secret' }, { actor: 'carol' });
  await permits.update(p2.id, { number: 'P-2-renamed' }, { actor: 'alice' });
  await permits.create({ number: 'P-2', county: 'Kent', status: 'draft' }, { actor: 'alice' });
  await permits.delete(p3!.id, { actor: 'dave' });
  await permits.create({ number: 'P-3', county: 'Essex', status: 'draft' }, { actor: 'dave', idempotencyKey: 'k-1' });
  await permits.create({ number: 'P-3', county: 'Essex', status: 'draft' }, { actor: 'dave', idempotencyKey: 'k-1' });
  await expect(permits.create({ number: 'P-4', county: 'x', status: 'y' })).rejects.toThrow();
  for (let i = 0; i < 4; i++) await permits.update(p4!.id, { status: `s${i}`, note: `n${i}` });

  const i1 = await inspections.create({ permit: 'P-0', result: 'pass', score: 7, active: true });
  await inspections.update(i1.id, { score: 8, active: false });
  await store.repo(Permit).transaction(
    (tx) => {
      tx.create(Inspection, { permit: 'P-5', result: 'fail', score: 2 });
      tx.update(Permit, p5!.id, { status: 'rejected' });
      const i2 = tx.create(Inspection, { permit: 'P-5', result: 'retry' });
      tx.delete(Inspection, i2.id);
    },
    { actor: 'inspector' },
  );
  await inspections.create({ permit: 'P-5', result: 'retry', score: 5 });
  await inspections.delete(i1.id);
}

/** The names of every database that replaying the log must rebuild. */
function derivedDatabases(store: OpenStore): string[] {
  const names = ['_log', '_log.by-record'];
  for (const definition of store.definitions) {
    const tables = store.storage.tablesOf(definition);
    names.push(`${definition.name}.records`);
    for (const { index } of tables.indexes) names.push(`${definition.name}.index.${index.name}`);
  }
  return [...names, '_audit', '_audit.byRecord', '_audit.byActor'];
}

describe('EntityStorage.replay', () => {
  let dirA: ReturnType<typeof makeTempDir>;
  let dirB: ReturnType<typeof makeTempDir>;
  let a: OpenStore;
  let b: OpenStore;

  beforeEach(async () => {
    dirA = makeTempDir();
    dirB = makeTempDir();
    a = await openStore(dirA.path, ENTITIES);
    b = await openStore(dirB.path, ENTITIES);
  });

  afterEach(async () => {
    await a.close();
    await b.close();
    dirA.remove();
    dirB.remove();
  });

  function expectSameStores(): void {
    const names = derivedDatabases(a);
    expect(names.filter((name) => name.includes('.index.'))).toEqual([
      'rp-permits.index.number',
      'rp-permits.index.county_status',
      'rp-inspections.index.permit',
      'rp-inspections.index.permit_result',
    ]);
    for (const name of names) {
      expect({ name, entries: dump(b, name) }).toEqual({ name, entries: dump(a, name) });
      expect({ name, bytes: dumpBinary(b, name) }).toEqual({ name, bytes: dumpBinary(a, name) });
    }
  }

  it('rebuilds records, every index, history and audit trail byte for byte in an empty store', async () => {
    await workload(a);
    const events = a.storage.events(0, 100000);
    expect(events.length).toBeGreaterThan(25);

    await b.storage.replay(events);

    expectSameStores();
    expect(dump(a, 'rp-permits.records').length).toBe(7);
    const ids = new Set(events.map((event) => `${event.entity} ${event.id}`));
    for (const key of ids) {
      const [entity, id] = key.split(' ') as [string, string];
      const target = entity === 'rp-permits' ? Permit : Inspection;
      expect(await b.repo(target as typeof Permit).history(id)).toEqual(await a.repo(target as typeof Permit).history(id));
    }
    expect(await b.audit.find({ limit: 1000 })).toEqual(await a.audit.find({ limit: 1000 }));
    expect(b.storage.verify().problems).toEqual([]);
    expect(a.storage.verify().problems).toEqual([]);
  });

  it('reaches the same state when the log is replayed in several chunks', async () => {
    await workload(a);
    let after = 0;
    for (;;) {
      const chunk = a.storage.events(after, 7);
      if (chunk.length === 0) break;
      await b.storage.replay(chunk);
      after = chunk[chunk.length - 1]!.seq;
    }
    expectSameStores();
  });

  it('lets the replayed store go on with the next seq and answer queries from its indexes', async () => {
    await workload(a);
    await b.storage.replay(a.storage.events(0, 100000));
    const last = a.storage.events(0, 100000).at(-1)!.seq;

    const created = await b.repo(Permit).create({ number: 'P-new', county: 'Kent', status: 'draft' });
    expect(b.storage.events(last, 10).map((event) => [event.seq, event.id])).toEqual([[last + 1, created.id]]);
    await expect(b.repo(Permit).create({ number: 'P-0', county: 'x', status: 'y' })).rejects.toThrow();
    expect(b.repo(Permit).explain({ where: { county: 'Kent', status: 'draft' } })).toMatch(/index county_status/);
    expect((await b.repo(Permit).find({ where: { county: 'Kent', status: 'draft' } })).items.map((r) => r.number).sort()).toEqual(
      (await a.repo(Permit).find({ where: { county: 'Kent', status: 'draft' } })).items
        .map((r) => r.number)
        .concat('P-new')
        .sort(),
    );
  });

  describe('rejects', () => {
    let events: EntityEvent[];

    beforeEach(async () => {
      await workload(a);
      events = a.storage.events(0, 100000);
    });

    function expectEmpty(store: OpenStore): void {
      expect(store.storage.events(0, 10)).toEqual([]);
      for (const name of derivedDatabases(store)) expect({ name, entries: dump(store, name) }).toEqual({ name, entries: [] });
    }

    it('an event whose seq does not follow the log, and applies nothing', async () => {
      await expect(b.storage.replay([events[1]!])).rejects.toThrow(/seq 2 .*expected 1/);
      expectEmpty(b);
    });

    it('a batch with a gap in it as a whole', async () => {
      await expect(b.storage.replay([events[0]!, events[1]!, events[3]!])).rejects.toThrow(/seq 4 .*expected 3/);
      expectEmpty(b);
    });

    it('an event that was already applied', async () => {
      await b.storage.replay(events.slice(0, 3));
      await expect(b.storage.replay([events[2]!])).rejects.toThrow(/seq 3 .*expected 4/);
      expect(b.storage.events(0, 100).map((event) => event.seq)).toEqual([1, 2, 3]);
    });

    it('an event of an entity the store does not know', async () => {
      await expect(b.storage.replay([{ ...events[0]!, entity: 'unknown' }])).rejects.toThrow(/unknown/);
      expectEmpty(b);
    });
  });
});
