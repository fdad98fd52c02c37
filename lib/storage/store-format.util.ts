import type { Database } from 'lmdb';
import type { IndexKey } from './index-key.util.js';
import type { EntityTables } from './entity-tables.interface.js';
import type { EventLog } from './event-log.store.js';
import type { LmdbEnvironment } from './lmdb-environment.store.js';
import { UnsupportedStoreFormatException } from './unsupported-store-format.exception.js';

/**
 * The layout of the databases this version writes. A store without the key was written before
 * the key existed, in format 1. A change of layout raises it, with a migration from the one before.
 *
 * - 1: msgpack values, each carrying its keys.
 * - 2: records, history entries, events and audit entries share their msgpack structures (see
 *   `sharesStructures`). A format 1 value stays readable as it is, so moving a store from 1 to
 *   2 rewrites nothing; but a version that reads only format 1 cannot decode what 2 writes.
 * - 3: each event is also listed under its record (`_log.by-record`), for reads of a record as it
 *   was. Moving a store from 2 lists the events its log holds, in batches, before the format is
 *   recorded, so a move cut short starts again; a version that reads only 2 would append events
 *   without listing them.
 * - 4: the log's last seq is kept in `_meta` (`['log', 'last-seq']`) rather than read from the
 *   log's last key with a cursor. Moving a store from 3 counts it once; a version that reads
 *   only 3 would append without counting (an event past the count makes `lastSeq` read the
 *   log's last key, so such events are never overwritten).
 * - 5: a change's audit entry is listed under its record beside the change's event
 *   (`[entity, id, seq, auditId]` in `_log.by-record`) rather than in `_audit.byRecord`, which
 *   keeps refused writes and the entries of older formats; each write then changes one leaf
 *   page where it changed a page in each of two databases. Moving a store from 4 rewrites
 *   nothing: readers merge both listings. A process of an older version still running on the
 *   directory would miss those entries in a record's trail and fold each of their events twice
 *   when reading a record as it was, so every process of it must stop before the upgrade.
 * - 6: history entries are listed under their record too (`[entity, id, field, version]` and
 *   the delete marker `[entity, id, '#deleted']` in `_log.by-record`, after the record's events
 *   and audit entries) rather than in `<entity>.history`, so a write changes one leaf page where
 *   it changed one in each of two databases. Moving a store from 5 moves every entry, in
 *   batches, once the format is recorded (so older versions refuse a store whose move was cut
 *   short); until the move is done (a move cut short, a read-only tool) history is read from
 *   both places, and a record's entries move before it changes. A process of an older version
 *   still running on the directory would read history keys as events and audit entries, miss
 *   every entry moved, and write history a process of this version stops reading once its move
 *   is done, so every process of it must stop before the upgrade.
 */
export const STORE_FORMAT = 6;
/** Events listed per write transaction when a store moves to format 3. */
const LISTING_BATCH = 10_000;
const FORMAT_KEY: IndexKey = ['format'];

/** Refuses the store whose `_meta` database this is when its format is newer than this version reads. */
export function checkStoreFormat(meta: Database<unknown, IndexKey>, path: string): void {
  const format = storedFormat(meta);
  if (format > STORE_FORMAT) throw new UnsupportedStoreFormatException(path, format, STORE_FORMAT);
}

/** Marks the store as being in this version's format; inside a write transaction. */
export function recordStoreFormat(meta: Database<unknown, IndexKey>): void {
  meta.putSync(FORMAT_KEY, STORE_FORMAT);
}

/**
 * Brings an older store's data to this version's format (see STORE_FORMAT) for the `entities`
 * given; the caller then records it. History an older version left in `<entity>.history` moves
 * whatever the format recorded, so an entity declared again after it was dropped moves too.
 */
export async function migrateStoreFormat(
  environment: LmdbEnvironment,
  meta: Database<unknown, IndexKey>,
  log: EventLog,
  entities: readonly EntityTables[],
): Promise<void> {
  const format = storedFormat(meta);
  if (format < 3) {
    for (let after: number | undefined = 0; after !== undefined;) {
      const from: number = after;
      after = await environment.write(() => log.indexRecords(from, LISTING_BATCH));
    }
  }
  if (format < 4) await environment.write(() => log.countLastSeq());
  // Recorded before the first batch: a version that would read the moved entries as events and
  // audit entries must refuse a store whose move was cut short.
  if (format < 6) await environment.write(() => recordStoreFormat(meta));
  for (const { history } of entities) while ((await environment.write(() => history.moveLegacyEntries())) > 0);
}

/** The format recorded in a store's `_meta`: 1 when none is. */
export function storedFormat(meta: Database<unknown, IndexKey>): number {
  const stored = meta.get(FORMAT_KEY);
  return typeof stored === 'number' ? stored : 1;
}
