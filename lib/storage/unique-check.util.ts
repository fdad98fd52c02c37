import type { StoredRecord } from './entity-event.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import { afterPrefix, indexKeyOf, MISSING, sameKey, type IndexKey } from './index-key.util.js';
import { UniqueConstraintException } from './unique-constraint.exception.js';

/**
 * Refuses a record whose unique index values another record holds. An index whose values the
 * change leaves as they were is skipped: the entry under them is the record's own.
 */
export function checkUnique(tables: EntityTables, record: StoredRecord, before: StoredRecord | undefined): void {
  for (const { index, db } of tables.indexes) {
    if (!index.unique) continue;
    const values = indexKeyOf(index, record, record.id).slice(0, -1);
    if (values.includes(MISSING)) continue;
    if (before && sameKey(values, indexKeyOf(index, before, before.id).slice(0, -1))) continue;
    for (const key of db.getKeys({ start: values as IndexKey, end: afterPrefix(values), limit: 2 }) as Iterable<unknown[]>) {
      if (key[key.length - 1] !== record.id) {
        throw new UniqueConstraintException(tables.definition.name, index.name, index.fields);
      }
    }
  }
}
