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
 * through a `cascade` one (and theirs, to any depth) and clears the field of those referring
 * through a `setNull` one, each as its own event in this transaction, acting as the delete's
 * actor. Every record the delete takes with it is found, and every `restrict` checked, before
 * anything is written: a transaction callback that catches the conflict and carries on finds
 * nothing of the delete stored. Iterative, so a chain of any length takes no stack. The record
 * itself is left for the caller to delete.
 */
export function releaseReferences(
  tx: CommittingTransaction,
  relations: EntityRelations,
  tablesOf: (definition: EntityDefinition) => EntityTables,
  target: EntityDefinition,
  id: string,
  context: WriteContext,
): void {
  if (relations.referencesTo(target).length === 0) return;
  const doomed = cascadeOf(relations, tablesOf, target, id);
  for (const { definition, id: other } of doomed.values()) refuseRestricted(relations, tablesOf, doomed, definition, other);
  const inherited: WriteContext = { ...(context.actor !== undefined && { actor: context.actor }), ...(context.request && { request: context.request }) };
  for (const { definition, id: other } of doomed.values()) {
    for (const { source, reference } of relations.referencesTo(definition)) {
      if (reference.onDelete !== 'setNull') continue;
      for (const referring of referringIds(tablesOf(source), reference.field, other, (candidate) => !doomed.has(keyOf(source, candidate)))) {
        const record = tx.get(source, referring)!;
        tx.commit(source, 'updated', referring, record.version + 1, { [reference.field]: null }, inherited);
      }
    }
    if (definition === target && other === id) continue;
    const record = tx.get(definition, other)!;
    tx.commit(definition, 'deleted', other, record.version, undefined, inherited, { soft: definition.softDelete, checks: 'unique' });
  }
}

/** A doomed record: one the delete takes with it, or the record deleted. */
interface Doomed {
  definition: EntityDefinition;
  id: string;
}

/**
 * The record and every live record its delete cascades to, each once, in the order to delete
 * them: each after the records that refer to it through a cascade (depth first, post-order, as
 * the recursion before did), the record itself last; in a cycle, where the walk came back.
 */
function cascadeOf(
  relations: EntityRelations,
  tablesOf: (definition: EntityDefinition) => EntityTables,
  target: EntityDefinition,
  id: string,
): Map<string, Doomed> {
  const seen = new Set<string>([keyOf(target, id)]);
  const ordered = new Map<string, Doomed>();
  const path: Array<{ doomed: Doomed; referring: Iterator<Doomed> }> = [
    { doomed: { definition: target, id }, referring: cascadingTo(relations, tablesOf, target, id) },
  ];
  while (path.length > 0) {
    const top = path[path.length - 1]!;
    const next = top.referring.next();
    if (next.done) {
      path.pop();
      ordered.set(keyOf(top.doomed.definition, top.doomed.id), top.doomed);
      continue;
    }
    const key = keyOf(next.value.definition, next.value.id);
    if (seen.has(key)) continue;
    seen.add(key);
    path.push({ doomed: next.value, referring: cascadingTo(relations, tablesOf, next.value.definition, next.value.id) });
  }
  return ordered;
}

/** The live records that refer to `id` through a cascade reference. */
function* cascadingTo(
  relations: EntityRelations,
  tablesOf: (definition: EntityDefinition) => EntityTables,
  target: EntityDefinition,
  id: string,
): Generator<Doomed> {
  for (const { source, reference } of relations.referencesTo(target)) {
    if (reference.onDelete !== 'cascade') continue;
    for (const other of referringIds(tablesOf(source), reference.field, id, () => true)) yield { definition: source, id: other };
  }
}

/** Refuses the delete when a record it does not take with it refers to `id` through a `restrict` reference. */
function refuseRestricted(
  relations: EntityRelations,
  tablesOf: (definition: EntityDefinition) => EntityTables,
  doomed: ReadonlyMap<string, Doomed>,
  target: EntityDefinition,
  id: string,
): void {
  for (const { source, reference } of relations.referencesTo(target)) {
    if (reference.onDelete !== 'restrict') continue;
    const referring = referringIds(tablesOf(source), reference.field, id, (other) => !doomed.has(keyOf(source, other)), RESTRICT_COUNT_LIMIT + 1);
    if (referring.length === 0) continue;
    const count = referring.length > RESTRICT_COUNT_LIMIT ? `more than ${RESTRICT_COUNT_LIMIT}` : String(referring.length);
    throw new ReferenceConflictException(
      target.name,
      `record ${id} is referred to by ${count} ${source.name} record(s) through ${reference.field}, whose @Reference restricts its delete`,
    );
  }
}

function keyOf(definition: EntityDefinition, id: string): string {
  return `${definition.name}\0${id}`;
}

/** Ids of the live records of `source` whose `field` holds `id` and that `wanted` keeps, read from an index the field leads; at most `limit`. */
function referringIds(source: EntityTables, field: string, id: string, wanted: (id: string) => boolean, limit = Infinity): string[] {
  const { db } = source.indexes.find(({ index }) => index.fields[0] === field)!;
  const ids: string[] = [];
  for (const key of db.getKeys({ start: [id], end: afterPrefix([id]) }) as Iterable<unknown[]>) {
    const other = key[key.length - 1] as string;
    if (!wanted(other)) continue;
    ids.push(other);
    if (ids.length >= limit) break;
  }
  return ids;
}
