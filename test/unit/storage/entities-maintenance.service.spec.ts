import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { Index } from '../../../lib/decorators/index.decorator.js';
import { getRepositoryToken } from '../../../lib/metadata/repository-token.util.js';
import type { EntityRepository } from '../../../lib/repository/entity.repository.js';
import { EntitiesMaintenance } from '../../../lib/storage/entities-maintenance.service.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('mt-permits')
class Permit {
  @Field() @Index({ unique: true }) number!: string;
  @Field() county!: string;
}

@Entity('mt-notes')
class Note {
  @Field() text!: string;
}

@Entity('mt-strays')
class Stray {
  @Field() text!: string;
}

describe('EntitiesMaintenance', () => {
  let t: TestApp;
  let maintenance: EntitiesMaintenance;
  let permits: EntityRepository<Permit>;
  const others: TestApp[] = [];
  const dirs: Array<ReturnType<typeof makeTempDir>> = [];

  beforeEach(async () => {
    t = await createTestApp({ entities: [Permit, Note], module: { eventRetention: { maxEvents: 2 } } });
    maintenance = t.app.get(EntitiesMaintenance);
    permits = t.app.get(getRepositoryToken(Permit));
  });

  afterEach(async () => {
    for (const other of others.splice(0)) await other.close();
    await t.close();
    for (const dir of dirs.splice(0)) dir.remove();
  });

  /** Removes the index entry of the `number` index of `permit` behind the storage's back. */
  async function dropIndexEntry(permit: { id: string; number: string }): Promise<void> {
    const storage = t.app.get(EntityStorage);
    const { db } = storage.tablesOf(storage.definitionOf(Permit)).indexes.find(({ index }) => index.name === 'number')!;
    await storage.environment.write(() => db.removeSync([permit.number, permit.id]));
  }

  it('verifies a sound store, finds an index entry removed behind its back, and rebuildIndexes(class) repairs it', async () => {
    const permit = await permits.create({ number: 'P-1', county: 'Kent' });
    expect(maintenance.verify()).toMatchObject({ ok: true, problems: [], checked: { records: 1, indexEntries: 1, events: 1 } });

    await dropIndexEntry(permit);
    const damaged = maintenance.verify();
    expect(damaged.ok).toBe(false);
    expect(damaged.problems).toEqual([`mt-permits ${permit.id}: missing from index number`]);
    const byNumber = async () => (await permits.find({ where: { number: 'P-1' } })).items.map((record) => record.id);
    expect(await byNumber()).toEqual([]);

    await maintenance.rebuildIndexes(Permit);
    expect(maintenance.verify()).toMatchObject({ ok: true, problems: [] });
    expect(await byNumber()).toEqual([permit.id]);
  });

  it('rebuilds by entity name, or every entity, and names an entity it does not have', async () => {
    const permit = await permits.create({ number: 'P-1', county: 'Kent' });
    await dropIndexEntry(permit);
    await maintenance.rebuildIndexes('mt-permits');
    expect(maintenance.verify().ok).toBe(true);

    await dropIndexEntry(permit);
    await maintenance.rebuildIndexes();
    expect(maintenance.verify().ok).toBe(true);

    await expect(maintenance.rebuildIndexes('nope')).rejects.toThrow('the store has no entity "nope" (its entities: mt-permits, mt-notes)');
    await expect(maintenance.rebuildIndexes(Stray)).rejects.toThrow(/Stray is not an entity of this store/);
  });

  it('reads events after a seq, a page at a time', async () => {
    const first = await permits.create({ number: 'P-1', county: 'Kent' });
    const second = await permits.update(first.id, { county: 'Essex' });
    const events = maintenance.events();
    expect(events.map(({ seq, type, id, version }) => ({ seq, type, id, version }))).toEqual([
      { seq: 1, type: 'created', id: first.id, version: 1 },
      { seq: 2, type: 'updated', id: first.id, version: second.version },
    ]);
    expect(maintenance.events(1).map((event) => event.seq)).toEqual([2]);
    expect(maintenance.events(0, 1).map((event) => event.seq)).toEqual([1]);
  });

  it('replays the events of one store into another, which then holds the same records', async () => {
    const permit = await permits.create({ number: 'P-1', county: 'Kent' });
    await permits.update(permit.id, { county: 'Essex' });
    const replica = await createTestApp({ entities: [Permit, Note] });
    others.push(replica);

    await replica.app.get(EntitiesMaintenance).replay(maintenance.events());
    const copied = replica.app.get<string, EntityRepository<Permit>>(getRepositoryToken(Permit));
    expect(await copied.findById(permit.id)).toEqual(await permits.findById(permit.id));
    expect(replica.app.get(EntitiesMaintenance).verify()).toMatchObject({ ok: true, problems: [] });
    await expect(replica.app.get(EntitiesMaintenance).replay(maintenance.events())).rejects.toThrow('event seq 1 does not follow the log (expected 3)');
  });

  it("runs maintenance now, dropping the events past the module's retention", async () => {
    const notes = t.app.get<string, EntityRepository<Note>>(getRepositoryToken(Note));
    for (let i = 0; i < 5; i++) await notes.create({ text: `${i}` });
    expect(await maintenance.runMaintenance()).toEqual({ idempotencyKeys: 0, events: 3 });
    expect(maintenance.events().map((event) => event.seq)).toEqual([4, 5]);
  });

  it('backs the store up into a new directory that opens as a store with the same records', async () => {
    const permit = await permits.create({ number: 'P-1', county: 'Kent' });
    const dir = makeTempDir();
    dirs.push(dir);
    const target = join(dir.path, 'copy');

    await maintenance.backup(target);
    expect(existsSync(join(target, 'data.mdb'))).toBe(true);
    const copy = await createTestApp({ entities: [Permit, Note], path: target });
    others.push(copy);
    expect(await copy.app.get<string, EntityRepository<Permit>>(getRepositoryToken(Permit)).findById(permit.id)).toEqual(await permits.findById(permit.id));
    expect(copy.app.get(EntitiesMaintenance).verify().ok).toBe(true);
  });

  it('refuses to back up into the store itself or over another store', async () => {
    await expect(maintenance.backup(t.path)).rejects.toThrow('the backup directory is the store itself');
    const dir = makeTempDir();
    dirs.push(dir);
    await maintenance.backup(dir.path, { compact: true });
    await expect(maintenance.backup(dir.path)).rejects.toThrow(/already holds a store/);
  });
});
