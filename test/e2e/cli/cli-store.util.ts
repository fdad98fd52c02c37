import { open, type Database, type RootDatabase } from 'lmdb';
import type { EntityDefinition } from '../../../lib/index.js';
import type { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { lmdbDatabaseOptions } from '../../../lib/storage/lmdb-open-options.util.js';
import { withSampleStore } from '../../support/sample-store.util.js';

/** What a seeded store holds, counted in-process, for comparing with what the command line reports. */
export interface SeededStore {
  permits: number;
  inspections: number;
  events: number;
  permitChanges: number;
  permitHistoryEntries: number;
}

/**
 * Fills the sample's store at `dataPath` through the storage's write path (creates,
 * updates, a delete), as the app would, so the catalog is recorded and the log, history
 * and audit trail have content; closes it again.
 */
export function seedSampleStore(dataPath: string, counts = { permits: 40, inspections: 12 }): Promise<SeededStore> {
  return withSampleStore(dataPath, async (storage) => {
    const permit = definitionNamed(storage, 'permits');
    const inspection = definitionNamed(storage, 'inspections');
    const ids = await storage.write((tx) =>
      Array.from(
        { length: counts.permits },
        (_, i) =>
          tx.create(
            permit,
            {
              number: `BP-${String(i).padStart(4, '0')}`,
              client: i % 3 === 0 ? 'Zürich Bau AG ✓' : 'Acme Builders',
              county: i % 2 === 0 ? 'Travis' : 'Hays',
              ...(i % 4 !== 0 && { estimatedCost: i * 1000.5 }),
              ...(i % 5 === 0 && { issuedAt: new Date(Date.UTC(2026, 0, 1 + i)) }),
              internalNotes: `note ${i}`,
            },
            { actor: 'seeder' },
          ).id,
      ),
    );
    await storage.write((tx) => {
      for (const id of ids.slice(0, 10)) tx.update(permit, id, { status: 'submitted' }, { actor: 'clerk-1' });
      for (const id of ids.slice(0, 3)) tx.update(permit, id, { status: 'approved', fee: 120 }, { actor: 'finance-1' });
      for (let i = 0; i < counts.inspections; i++) {
        tx.create(inspection, {
          permitId: ids[i % ids.length]!,
          inspector: `Inspector ${i}`,
          scheduledFor: new Date(Date.UTC(2026, 5, 1 + i, 9)),
          ...(i % 2 === 0 && { reinspectionNeeded: i % 4 === 0 }),
        });
      }
    });
    await storage.write((tx) => tx.delete(permit, ids.at(-1)!, { actor: 'admin' }));
    const tables = storage.tablesOf(permit);
    return {
      permits: tables.records.getCount(),
      inspections: storage.tablesOf(inspection).records.getCount(),
      events: storage.log.lastSeq(),
      permitChanges: storage.changeMark(permit).count,
      permitHistoryEntries: [...tables.history.entries()].length,
    };
  });
}

export function definitionNamed(storage: EntityStorage, name: string): EntityDefinition {
  const definition = storage.registered().find((candidate) => candidate.name === name);
  if (!definition) throw new Error(`the sample has no entity ${name}`);
  return definition;
}

/**
 * Opens the store with lmdb itself, past the package, to damage it the way a bug or a
 * hand edit would; `fn` gets one named database of it.
 */
export async function withRawDatabase<R>(dataPath: string, name: string, fn: (db: Database<any, any>, root: RootDatabase) => R): Promise<R> {
  const root = open({ path: dataPath, maxDbs: 4, compression: false, cache: false } as never) as RootDatabase;
  try {
    const db = root.openDB(name, lmdbDatabaseOptions(name));
    const result = await root.transaction(() => fn(db, root));
    await root.flushed;
    return result;
  } finally {
    await root.close();
  }
}

/** Makes the store look as an older version left it: no catalog of entities, no writer list. */
export async function removeCatalog(dataPath: string): Promise<number> {
  return withRawDatabase(dataPath, '_meta', (meta) => {
    let removed = 0;
    for (const key of [...meta.getKeys({})] as unknown[][]) {
      if (Array.isArray(key) && (key[0] === 'catalog' || key[0] === 'writers')) {
        meta.removeSync(key);
        removed++;
      }
    }
    return removed;
  });
}
