import { Logger } from '@nestjs/common';
import { EntitiesLogger } from '../common/entities.logger.js';
import { InvalidQueryException } from '../query/invalid-query.exception.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { recordsFor } from '../query/deleted-records.util.js';
import type { FindQuery, FindResult } from '../query/find-query.interface.js';
import { matchesNothing, normalizeQuery } from '../query/query-clause.util.js';
import { runQuery } from '../query/query-executor.util.js';
import type { QueryPlan } from '../query/query-plan.interface.js';
import { explainPlan, planQuery } from '../query/query-planner.util.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import type { DeletedRecord, StoredRecord } from '../storage/entity-event.interface.js';
import { isRecordId } from '../storage/record-id.util.js';
import type { AccessPolicy } from './access-policy.interface.js';
import { includedReferences, withIncluded } from './included-records.util.js';
import { checkQueryFields, decisionOf, readFor, unreadableUnder } from './principal-access.util.js';
import type { FindOptions, ReadOptions } from './read-options.interface.js';
import { toDeclaredRecord, toRecordView } from './record-view.util.js';
import { narrowByReferences, splitReferenceConditions } from './reference-filter.util.js';
import { checkRepositoryOpen } from './repository-open.util.js';

const QUERY_LOGGER = new EntitiesLogger('EntitiesQuery');

/** `EntityRepository.findById`'s work: the record with this id as `options` may read it, or `null`. */
export async function findOne(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  id: string,
  options: ReadOptions,
): Promise<Record<string, unknown> | null> {
  checkRepositoryOpen(storage, definition);
  const included = options.include ? includedReferences(storage, access, definition, options, options.include) : [];
  storage.renewSnapshot();
  const record = isRecordId(id) ? storage.tablesOf(definition).records.get(id) : undefined;
  const view = readFor(access, definition, options, record);
  return view && withIncluded(storage, access, definition, options, [view], included)[0]!;
}

/** `EntityRepository.find`'s work; `planned` learns the plan it runs. */
export async function findRecords(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  query: FindQuery,
  options: FindOptions,
  planned: (plan: QueryPlan) => void,
): Promise<FindResult<Record<string, unknown>>> {
  checkRepositoryOpen(storage, definition);
  if (query === null || typeof query !== 'object') throw new InvalidQueryException('the query must be an object, e.g. { where: { status: "open" } }');
  const forPrincipal = 'principal' in options;
  const { own, through } = splitReferenceConditions(definition, query, forPrincipal);
  let normalized = normalizeQuery(definition, own);
  const included = options.include ? includedReferences(storage, access, definition, options, options.include) : [];
  const including = (items: Record<string, unknown>[]) => withIncluded(storage, access, definition, options, items, included);
  const decision = decisionOf(access, definition, options, 'read');
  const unreadable = unreadableUnder(access, definition, decision);
  if (forPrincipal) {
    checkQueryFields(
      definition,
      unreadable,
      normalized.clauses.map((clause) => clause.field),
      normalized.sort.field,
    );
  }
  storage.renewSnapshot();
  // Resolved in the snapshot the query reads, before planning: few records referred to become an `in` its index answers.
  const narrowing = through.length > 0 ? narrowByReferences(storage, access, definition, options, through) : undefined;
  if (narrowing?.none) return { items: [], nextCursor: null };
  if (narrowing) normalized = { ...normalized, clauses: [...normalized.clauses, ...narrowing.clauses] };
  // A caller that reads only its own records: an index on the owner field answers its list.
  const ownerClause = decision && access!.ownCondition(definition, decision);
  if (ownerClause) normalized = { ...normalized, clauses: [...normalized.clauses, ownerClause] };
  const { tables, definition: plannedDefinition } = recordsFor(storage.tablesOf(definition), normalized.deleted);
  const plan = planQuery(plannedDefinition, normalized.clauses, normalized.sort);
  planned(plan);
  if (Logger.isLevelEnabled('debug')) QUERY_LOGGER.debug(`${definition.name}: ${explainPlan(plan)}`);
  const related = narrowing?.matches ?? (() => true);
  if (!forPrincipal) {
    const page = runQuery(tables, normalized, plan, storage.cursorKey, related);
    return { items: including(page.items.map((record) => toDeclaredRecord(definition, record))), nextCursor: page.nextCursor };
  }
  // Deleted records are for those who could restore them: readers who may also delete them.
  const deleting = normalized.deleted === 'exclude' ? undefined : decisionOf(access, definition, options, 'delete');
  const visible = (record: StoredRecord) =>
    (!decision || access!.canRead(definition, decision, record)) &&
    (!deleting || !(record as Partial<DeletedRecord>).deletedAt || access!.permits(definition, deleting, record)) &&
    related(record);
  const page = runQuery(tables, normalized, plan, storage.cursorKey, visible);
  return { items: including(page.items.map((record) => toRecordView(definition, record, unreadable))), nextCursor: page.nextCursor };
}

/** `EntityRepository.explain`: how `find(query)` would read the store, conditions through references left out. */
export function explainFind(storage: EntityStorage, definition: EntityDefinition, query: FindQuery): string {
  const normalized = normalizeQuery(definition, splitReferenceConditions(definition, query, false).own);
  if (matchesNothing(normalized.clauses)) return 'nothing to read: an empty in list matches no record';
  const { definition: planned } = recordsFor(storage.tablesOf(definition), normalized.deleted);
  return explainPlan(planQuery(planned, normalized.clauses, normalized.sort));
}
