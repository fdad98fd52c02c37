import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { CommittingTransaction } from './committing-transaction.interface.js';
import type { StoredRecord } from './entity-event.interface.js';
import type { EntityRelations } from './entity-registry.service.js';
import type { EntityTables } from './entity-tables.interface.js';
import { afterPrefix } from './index-key.util.js';
import { ReferenceConflictException } from './reference-conflict.exception.js';
import type { WriteContext } from './write-context.interface.js';

/** Beyond this many records referring to it, a refused delete says "more than". */
const RESTRICT_COUNT_LIMIT = 100;

/** Refuses a record whose `@Reference` fields name records that do not exist; a value the change leaves as it was is skipped. */
export function checkReferences(
  tx: CommittingTransaction,
  relations: EntityRelations,
  definition: EntityDefinition,
  record: StoredRecord,
  before: StoredRecord | undefined,
): void {
  for (const reference of definition.references) {
    const value = record[reference.field];
    if (value === undefined || (before !== undefined && before[reference.field] === value)) continue;
    const target = relations.targetOf(definition, reference);
    if (typeof value !== 'string' || !tx.get(target, value)) {
      throw new ReferenceConflictException(definition.name, `${reference.field} refers to no ${target.name} record ${JSON.stringify(value)}`);
    }
  }
}

/**
 * Before a record is deleted, applies each `onDelete` of the references to it: refuses the
 * delete while a record refers to it through a `restrict` one, deletes the records referring
 * through a `cascade` one and clears the field of those referring through a `setNull` one,
 * each as its own event in this transaction, acting as the delete's actor. `deleting` is the
 * transaction's set of records whose delete is under way.
 */
export function releaseReferences(
  tx: CommittingTransaction,
  relations: EntityRelations,
  tablesOf: (definition: EntityDefinition) => EntityTables,
  deleting: Set<string>,
  target: EntityDefinition,
  id: string,
  context: WriteContext,
): void {
  const incoming = relations.referencesTo(target);
  if (incoming.length === 0) return;
  const key = `${target.name}\0${id}`;
  deleting.add(key);
  try {
    const inherited: WriteContext = { ...(context.actor !== undefined && { actor: context.actor }), ...(context.request && { request: context.request }) };
    for (const { source, reference } of incoming) {
      const limit = reference.onDelete === 'restrict' ? RESTRICT_COUNT_LIMIT + 1 : undefined;
      const referring = referringIds(tablesOf(source), reference.field, id, limit).filter((other) => !deleting.has(`${source.name}\0${other}`));
      if (referring.length === 0) continue;
      if (reference.onDelete === 'restrict') {
        const count = referring.length > RESTRICT_COUNT_LIMIT ? `more than ${RESTRICT_COUNT_LIMIT}` : String(referring.length);
        throw new ReferenceConflictException(
          target.name,
          `record ${id} is referred to by ${count} ${source.name} record(s) through ${reference.field}, whose @Reference restricts its delete`,
        );
      }
      for (const other of referring) {
        // An earlier cascade of this delete may have taken it already.
        const record = tx.get(source, other);
        if (!record) continue;
        if (reference.onDelete === 'cascade') tx.delete(source, other, inherited);
        else tx.commit(source, 'updated', other, record.version + 1, { [reference.field]: null }, inherited);
      }
    }
  } finally {
    deleting.delete(key);
  }
}

/** Ids of the live records of `source` whose `field` holds `id`, read from an index the field leads. */
function referringIds(source: EntityTables, field: string, id: string, limit?: number): string[] {
  const { db } = source.indexes.find(({ index }) => index.fields[0] === field)!;
  const ids: string[] = [];
  const keys = db.getKeys({ start: [id], end: afterPrefix([id]), ...(limit !== undefined && { limit }) }) as Iterable<unknown[]>;
  for (const key of keys) ids.push(key[key.length - 1] as string);
  return ids;
}
