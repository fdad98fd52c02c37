import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Audited, Entity, Field, Historize, Index } from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { asApp } from './app-store.util.js';
import { runCli } from './cli-process.util.js';

/** Version 1 of an app's entity. */
@Entity('parcels')
@Audited()
class ParcelV1 {
  @Field() @Index({ unique: true }) code!: string;
  @Field({ required: false }) @Historize('full') legacyRef?: string;
  @Field({ required: false, hidden: true }) surveyorNotes?: string;
  @Field() owner!: string;
}

/** Version 2: `legacyRef` and `surveyorNotes` were removed from the class. */
@Entity('parcels')
@Audited()
class ParcelV2 {
  @Field() @Index({ unique: true }) code!: string;
  @Field() owner!: string;
}

const RECORDS = 7;

/**
 * A store written by version 1 (records with and without the fields version 2 drops, a
 * change of each), then opened once by version 2, which recorded its catalog.
 */
async function storeLeftByARemovedField(path: string): Promise<string[]> {
  const ids = await asApp(path, ParcelV1, async (storage) => {
    const definition = storage.definitionOf(ParcelV1);
    return storage.write((tx) =>
      Array.from({ length: RECORDS }, (_, i) => {
        const parcel = tx.create(definition, {
          code: `P-${i}`,
          owner: 'Ada',
          ...(i % 3 !== 0 && { legacyRef: `L-${i}` }),
          ...(i % 2 === 0 && { surveyorNotes: `secret ${i}` }),
        });
        return tx.update(definition, parcel.id, { owner: 'Grace', ...(i % 3 !== 0 && { legacyRef: `L-${i}b` }) }).id;
      }),
    );
  });
  await asApp(path, ParcelV2, async () => undefined);
  return ids;
}

/** Which of the version-1-only fields each record holds, keyed by id. */
function expectedDrops(ids: readonly string[]): Array<[string, string[]]> {
  return ids.flatMap((id, i) => {
    const fields = [...(i % 3 !== 0 ? ['legacyRef'] : []), ...(i % 2 === 0 ? ['surveyorNotes'] : [])];
    return fields.length === 0 ? [] : [[id, fields] as [string, string[]]];
  });
}

describe('cli drop-fields', () => {
  let dir: ReturnType<typeof makeTempDir>;
  beforeEach(() => (dir = makeTempDir('nde-cli-drop-')));
  afterEach(() => dir.remove());

  it('with --dry-run lists each record and the fields its entity no longer declares, and changes nothing', async () => {
    const path = join(dir.path, 'data');
    const ids = await storeLeftByARemovedField(path);
    const before = readFileSync(join(path, 'data.mdb'));

    const result = await runCli(['drop-fields', '--dry-run', '--path', path]);

    expect(result.code).toBe(0);
    const listed = expectedDrops(ids);
    expect(result.stdout.trimEnd().split('\n').sort()).toEqual(listed.map(([id, fields]) => `parcels ${id}: ${fields.join(', ')}`).sort());
    expect(result.stderr).toBe('would drop parcels: legacyRef (4 records), surveyorNotes (4 records)\n');
    expect(readFileSync(join(path, 'data.mdb')).equals(before)).toBe(true);
  });

  it('removes those fields as update events, in batches, leaving the log, history and audit trail consistent', async () => {
    const path = join(dir.path, 'data');
    const ids = await storeLeftByARemovedField(path);

    const result = await runCli(['drop-fields', 'parcels', '--batch-size', '2', '--actor', 'ops', '--path', path]);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe('dropped parcels: legacyRef (4 records), surveyorNotes (4 records)\n');
    const changed = new Map(expectedDrops(ids));
    await asApp(path, ParcelV2, async (storage, audit) => {
      const definition = storage.definitionOf(ParcelV2);
      const records = storage.tablesOf(definition).records;
      for (const id of ids) {
        const record = records.get(id)!;
        expect(Object.keys(record).sort()).toEqual(['code', 'createdAt', 'id', 'owner', 'updatedAt', 'version']);
        expect(record.version).toBe(changed.has(id) ? 3 : 2);
      }
      const drops = storage.events(0, 1000).filter((event) => event.seq > 2 * RECORDS);
      expect(drops.map((event) => [event.id, event.type, event.data, event.actor])).toEqual(
        [...changed].map(([id, fields]) => [id, 'updated', Object.fromEntries(fields.map((field) => [field, null])), 'ops']),
      );
      // The audit trail records the change, without the values of fields the entity no longer describes.
      const trail = await audit.find({ entity: 'parcels', actor: 'ops' });
      expect(trail.items.map((entry) => [entry.id, entry.version, entry.changes])).toEqual([...changed].map(([id]) => [id, 3, {}]));
      // The history of the removed field stays, as it was.
      const legacy = [...storage.environment.database<{ value: string }, never>('_log.by-record').getRange({})].filter(
        ({ key }) => (key as unknown as string[])[0] === 'parcels' && (key as unknown as string[])[2] === 'legacyRef',
      );
      expect(legacy).toHaveLength(8);
      expect(storage.verify().problems).toEqual([]);
    });
    expect((await runCli(['verify', '--path', path])).code).toBe(0);

    const again = await runCli(['drop-fields', '--path', path]);
    expect(again).toMatchObject({ code: 0, stdout: '', stderr: 'no stored record holds a field its entity no longer declares\n' });
  });

  it('is refused while an app has the store open to write, and its dry run is not', async () => {
    const path = join(dir.path, 'data');
    await storeLeftByARemovedField(path);

    const [refused, dryRun] = await asApp(path, ParcelV2, async () => [
      await runCli(['drop-fields', '--path', path]),
      await runCli(['drop-fields', '--dry-run', '--path', path]),
    ]);

    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('is open for writing by app');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout.trimEnd().split('\n')).toHaveLength(6);
  });
});

/** Version 1 of an entity with soft delete. */
@Entity({ name: 'badges', softDelete: true })
class BadgeV1 {
  @Field() @Index({ unique: true }) code!: string;
  @Field({ required: false }) pin?: string;
}

/** Version 2: `pin` was removed from the class. */
@Entity({ name: 'badges', softDelete: true })
class BadgeV2 {
  @Field() @Index({ unique: true }) code!: string;
}

describe('cli drop-fields on soft-deleted records', () => {
  let dir: ReturnType<typeof makeTempDir>;
  beforeEach(() => (dir = makeTempDir('nde-cli-drop-deleted-')));
  afterEach(() => dir.remove());

  it('drops the fields from deleted records too, which stay deleted with their deletedAt and unique values free', async () => {
    const path = join(dir.path, 'data');
    const { deletedId, liveId, deletedAt } = await asApp(path, BadgeV1, async (storage) => {
      const definition = storage.definitionOf(BadgeV1);
      // The deleted badge gave "B-1" up, and a live one holds it now.
      const old = await storage.write((tx) => tx.create(definition, { code: 'B-1', pin: '1234' }));
      await storage.write((tx) => tx.delete(definition, old.id));
      const live = await storage.write((tx) => tx.create(definition, { code: 'B-1', pin: '9876' }));
      return { deletedId: old.id, liveId: live.id, deletedAt: storage.tablesOf(definition).deleted!.get(old.id)!.deletedAt };
    });
    await asApp(path, BadgeV2, async () => undefined);

    const dryRun = await runCli(['drop-fields', '--dry-run', '--path', path]);
    expect(dryRun.stdout.trimEnd().split('\n')).toEqual([`badges ${liveId}: pin`, `badges ${deletedId} (deleted): pin`]);
    const result = await runCli(['drop-fields', '--actor', 'privacy', '--path', path]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('dropped badges: pin (2 records)');
    expect((await runCli(['verify', '--path', path])).code).toBe(0);

    await asApp(path, BadgeV2, async (storage) => {
      const definition = storage.definitionOf(BadgeV2);
      const deleted = storage.tablesOf(definition).deleted!.get(deletedId)!;
      expect(deleted).not.toHaveProperty('pin');
      expect(deleted.deletedAt).toBe(deletedAt);
      expect(storage.tablesOf(definition).records.get(liveId)).not.toHaveProperty('pin');
      expect(storage.tablesOf(definition).records.get(deletedId)).toBeUndefined();
      // The change is in the log as any other: brought back, cleared and deleted again, by the actor.
      const events = [...storage.log.all()].filter((event) => event.id === deletedId);
      expect(events.map((event) => `${event.type}${event.soft ? ' soft' : ''} ${event.actor ?? '-'}`)).toEqual([
        'created -',
        'deleted soft -',
        'restored privacy',
        'updated privacy',
        'deleted soft privacy',
      ]);
    });
    expect((await runCli(['drop-fields', '--dry-run', '--path', path])).stderr).toContain('no stored record holds a field its entity no longer declares');
  });
});
