import type { EntityDefinition, ReferenceDefinition } from '../metadata/entity-definition.interface.js';
import { referenceNamed } from '../metadata/reference-names.util.js';
import type { FieldCondition, FindQuery, QueryClause } from '../query/find-query.interface.js';
import { InvalidQueryException } from '../query/invalid-query.exception.js';
import { matchesClause, normalizeQuery } from '../query/query-clause.util.js';
import { runQuery } from '../query/query-executor.util.js';
import { planQuery } from '../query/query-planner.util.js';
import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import { isRecordId } from '../storage/record-id.util.js';
import type { AccessPolicy } from './access-policy.interface.js';
import { checkQueryFields, decisionOf, unreadableTo, unreadableUnder } from './principal-access.util.js';
import type { PrincipalContext } from './principal-context.interface.js';

/** Conditions on the records one reference points to: `'permit.status': 'open'` in `where`. */
export interface ReferenceConditions {
  readonly reference: ReferenceDefinition;
  readonly where: Record<string, FieldCondition>;
}

/**
 * At most this many records referred to are looked up first and turned into an `in` condition
 * on the reference field, which its index answers; a filter matching more is checked record by
 * record as the query reads.
 */
const FEW_TARGETS = 100;

/**
 * Splits `where` into the entity's own conditions and those through a reference (keys
 * `<name>.<field>`, one level deep). For a principal, a reference through a hidden field is
 * unknown, like the field.
 */
export function splitReferenceConditions(
  definition: EntityDefinition,
  query: FindQuery,
  forPrincipal: boolean,
): { own: FindQuery; through: ReferenceConditions[] } {
  if (!query.where || !Object.keys(query.where).some((key) => key.includes('.'))) return { own: query, through: [] };
  const own: Record<string, FieldCondition> = {};
  const through = new Map<ReferenceDefinition, Record<string, FieldCondition>>();
  for (const [key, condition] of Object.entries(query.where)) {
    const dot = key.indexOf('.');
    if (dot < 0) {
      own[key] = condition;
      continue;
    }
    const name = key.slice(0, dot);
    const reference = referenceNamed(definition, name, forPrincipal);
    if (!reference) throw new InvalidQueryException(`cannot filter on ${key}: ${definition.name} has no reference named ${name}`);
    const conditions = through.get(reference) ?? {};
    conditions[key.slice(dot + 1)] = condition;
    through.set(reference, conditions);
  }
  const { where: _where, ...rest } = query;
  return {
    own: Object.keys(own).length > 0 ? { ...rest, where: own } : rest,
    through: [...through].map(([reference, where]) => ({ reference, where })),
  };
}

/** What conditions through references add to a query: clauses its planner may use, and a check of each record read. */
export interface ReferenceNarrowing {
  readonly clauses: QueryClause[];
  readonly matches: (record: StoredRecord) => boolean;
  /** No record referred to matches: no record can. */
  readonly none: boolean;
}

/**
 * Resolves conditions through references, in the snapshot the query then reads. A record
 * referred to counts only if the caller may read it, and only on fields the caller may read:
 * a filter may not learn what a read may not. Needs `read` on the entity referred to, and the
 * right to read the reference field itself.
 */
export function narrowByReferences(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  context: PrincipalContext,
  through: readonly ReferenceConditions[],
): ReferenceNarrowing {
  const clauses: QueryClause[] = [];
  const checks: Array<(record: StoredRecord) => boolean> = [];
  let none = false;
  if ('principal' in context) {
    checkQueryFields(
      definition,
      unreadableTo(access, definition, context),
      through.map(({ reference }) => reference.field),
      'id',
    );
  }
  for (const { reference, where } of through) {
    const target = storage.referenceTarget(definition, reference);
    // The route's decision is for its own entity: the one referred to is decided afresh.
    const caller: PrincipalContext = 'principal' in context ? { principal: context.principal } : {};
    const decision = decisionOf(access, target, caller, 'read');
    const targetQuery = normalizeQuery(target, { where, limit: FEW_TARGETS });
    if ('principal' in context) {
      checkQueryFields(
        target,
        unreadableUnder(access, target, decision),
        targetQuery.clauses.map((clause) => clause.field),
        'id',
      );
    }
    const tables = storage.tablesOf(target);
    const counts = (record: StoredRecord) =>
      targetQuery.clauses.every((clause) => matchesClause(record, clause)) && (!decision || access!.canRead(target, decision, record));
    const few = runQuery(
      tables,
      targetQuery,
      planQuery(target, targetQuery.clauses, targetQuery.sort),
      storage.cursorKey,
      (record) => !decision || access!.canRead(target, decision, record),
    );
    if (few.nextCursor === null) {
      if (few.items.length === 0) none = true;
      else clauses.push({ field: reference.field, op: 'in', value: few.items.map((record) => record.id) });
      continue;
    }
    const seen = new Map<string, boolean>();
    checks.push((record) => {
      const id = (record as Record<string, unknown>)[reference.field];
      if (typeof id !== 'string' || !isRecordId(id)) return false;
      if (!seen.has(id)) {
        const referred = tables.records.get(id);
        seen.set(id, referred !== undefined && counts(referred));
      }
      return seen.get(id)!;
    });
  }
  return { clauses, matches: (record) => checks.every((check) => check(record)), none };
}
