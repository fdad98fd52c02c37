import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { EntityTables } from '../storage/entity-tables.interface.js';
import type { IndexKey } from '../storage/index-key.util.js';
import type { DeletedMode } from './find-query.interface.js';

/** Where a query reads records from: an entity's records, its deleted ones, or both. */
export interface QueryTables {
  readonly records: RecordSource;
  readonly indexes: EntityTables['indexes'];
}

/** What a query needs of a database of records (id → record). */
export interface RecordSource {
  get(id: string): StoredRecord | undefined;
  getRange(options: { start?: IndexKey; end?: IndexKey; reverse?: boolean }): Iterable<{ key: string; value: StoredRecord }>;
}

/**
 * The records a query in `mode` reads, and the definition to plan it with. Deleted records
 * are in no index, so a query that takes them in scans by id: its filters and sort work as
 * on live records, at a scan's cost.
 */
export function recordsFor(tables: EntityTables, mode: DeletedMode): { tables: QueryTables; definition: EntityDefinition } {
  if (mode === 'exclude' || !tables.deleted) return { tables, definition: tables.definition };
  const deleted = tables.deleted as unknown as RecordSource;
  const records = mode === 'only' ? deleted : unionOf(tables.records, deleted);
  return { tables: { records, indexes: [] }, definition: { ...tables.definition, indexes: [] } };
}

/** Two databases keyed by id, read as one: no id is in both (a record is live or deleted). */
function unionOf(live: RecordSource, deleted: RecordSource): RecordSource {
  return {
    get: (id) => live.get(id) ?? deleted.get(id),
    getRange: (options) => mergedByKey(live.getRange(options), deleted.getRange(options), options.reverse === true),
  };
}

function* mergedByKey<E extends { key: string }>(first: Iterable<E>, second: Iterable<E>, reverse: boolean): Generator<E> {
  const a = first[Symbol.iterator]();
  const b = second[Symbol.iterator]();
  let x = a.next();
  let y = b.next();
  try {
    while (!x.done || !y.done) {
      const takeFirst = y.done || (!x.done && (reverse ? x.value.key > y.value.key : x.value.key < y.value.key));
      if (takeFirst) {
        yield x.value as E;
        x = a.next();
      } else {
        yield y.value as E;
        y = b.next();
      }
    }
  } finally {
    a.return?.();
    b.return?.();
  }
}
