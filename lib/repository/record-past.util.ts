import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { renamedNamesOf } from '../metadata/entity-migrations.util.js';
import { isoDateOf } from '../common/date-value.util.js';
import { InvalidQueryException } from '../query/invalid-query.exception.js';
import { positiveInteger } from '../query/positive-integer.util.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { RecordHistory } from '../storage/field-history.store.js';
import { pastRecord, underCurrentNames, type PastPoint } from '../storage/past-record.util.js';
import { withoutDeletedAt } from '../storage/event-applier.util.js';
import { PastStateGoneException } from '../storage/past-state-gone.exception.js';
import { RecordNotFoundException } from '../storage/record-not-found.exception.js';
import { isRecordId } from '../storage/record-id.util.js';
import { AccessDeniedException } from './access-denied.exception.js';
import type { AccessDecision, AccessPolicy } from './access-policy.interface.js';
import type { HistoryOptions } from './history-options.interface.js';
import { historyPageOf } from './history-page.util.js';
import { pastUnreadable } from './past-unreadable.util.js';
import type { PrincipalContext } from './principal-context.interface.js';
import type { RecordDiff } from './record-diff.interface.js';
import { checkedWriteFor, decisionOf, shapeFor, unreadableUnder } from './principal-access.util.js';
import { toDeclaredRecord, toHistoryView, toRecordView } from './record-view.util.js';
import type { RepositoryWriteContext } from './repository-write-context.interface.js';
import { checkRepositoryOpen } from './repository-open.util.js';

/** A point of `findAt` checked, its time in stored form. */
function pastPointOf(point: { version: number } | { asOf: Date | string }): PastPoint {
  if (point === null || typeof point !== 'object') throw new InvalidQueryException('the point must be { version } or { asOf }');
  if ('version' in point) return { version: positiveInteger('version', point.version) };
  const asOf = isoDateOf(point.asOf);
  if (asOf === undefined) throw new InvalidQueryException('asOf must be an ISO-8601 date');
  return { asOf };
}

/** A record's past state, or none; `undefined` too when the decision's principal may not read the live record's history. */
export function pastOf(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  id: string,
  point: PastPoint,
  decision: AccessDecision | undefined,
): StoredRecord | undefined {
  if (!isRecordId(id)) return undefined;
  const tables = storage.tablesOf(definition);
  const current = tables.records.get(id);
  // As for history: owners and grantees see the past of records that still exist.
  if (decision && !decision.entityWide && (!current || !access!.canRead(definition, decision, current))) return undefined;
  if (current && ('version' in point ? current.version === point.version : current.updatedAt <= point.asOf)) return current;
  const deleted = current ? undefined : tables.deleted?.get(id);
  // A soft-deleted record keeps its last state, which held from its last change until its delete, whatever the log still holds.
  if (deleted && ('version' in point ? deleted.version === point.version : deleted.updatedAt <= point.asOf)) {
    return 'asOf' in point && point.asOf >= deleted.deletedAt ? undefined : withoutDeletedAt(deleted);
  }
  const past = pastRecord(storage.log.recordEvents(definition.name, id), point, (current ?? deleted)?.createdAt);
  if (past.kind === 'gone') {
    const what = `${JSON.stringify(id)} ${'version' in point ? `at version ${point.version}` : `as of ${point.asOf}`}`;
    if (!past.imported) throw new PastStateGoneException(definition.name, what);
    throw new PastStateGoneException(definition.name, what, "was never in this store's event log (the record was imported as it was later)");
  }
  return past.kind === 'found' ? past.record : undefined;
}

/** A record as it is now: live, or soft-deleted (with its `deletedAt`); none once purged or never created. */
export function latestStateOf(storage: EntityStorage, definition: EntityDefinition, id: string): StoredRecord | undefined {
  const tables = storage.tablesOf(definition);
  return tables.records.get(id) ?? tables.deleted?.get(id);
}

/** Whether a record with this id exists or ever existed, read from a fresh snapshot: the audit route answers 404 for any other id. */
export function recordExisted(storage: EntityStorage, definition: EntityDefinition, id: string): boolean {
  checkRepositoryOpen(storage, definition);
  storage.renewSnapshot();
  return isRecordId(id) && storage.existed(definition, id);
}

/** `EntityRepository.history`'s work. */
export async function historyOf(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  id: string,
  options: HistoryOptions,
): Promise<RecordHistory | null> {
  checkRepositoryOpen(storage, definition);
  storage.renewSnapshot();
  const decision = decisionOf(access, definition, options, 'history');
  // History a migration did not move (a record deleted for good before it, a field empty then) stays under the old name.
  const unreadable = 'principal' in options ? pastUnreadable(definition, unreadableUnder(access, definition, decision)) : undefined;
  const page = historyPageOf(definition, options, unreadable);
  if (!isRecordId(id)) return null;
  if (decision && !decision.entityWide) {
    // Owners and grantees see the history of records that still exist; a deleted record's is for entity-wide readers.
    const record = storage.tablesOf(definition).records.get(id);
    if (!record || !access!.canRead(definition, decision, record)) return null;
  }
  const history = storage.history(definition, id, page);
  if (!history || !unreadable) return history ?? null;
  return toHistoryView(definition, history, unreadable);
}

/** `EntityRepository.findAt`'s work. */
export async function recordAt(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  id: string,
  point: { version: number } | { asOf: Date | string },
  options: PrincipalContext,
): Promise<Record<string, unknown> | null> {
  checkRepositoryOpen(storage, definition);
  storage.renewSnapshot();
  const decision = decisionOf(access, definition, options, 'history');
  const past = pastOf(storage, access, definition, id, pastPointOf(point), decision);
  if (!past) return null;
  if (!('principal' in options)) return toDeclaredRecord(definition, past);
  return toRecordView(definition, past, pastUnreadable(definition, unreadableUnder(access, definition, decision)));
}

/** `EntityRepository.diff`'s work. */
export async function diffOf(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  id: string,
  versions: { from?: number; to?: number },
  options: PrincipalContext,
): Promise<RecordDiff | null> {
  checkRepositoryOpen(storage, definition);
  storage.renewSnapshot();
  const decision = decisionOf(access, definition, options, 'history');
  const to = versions.to ?? (isRecordId(id) ? storage.tablesOf(definition).records.get(id)?.version : undefined);
  if (to === undefined) return null;
  const from = versions.from ?? Math.max(1, to - 1);
  const [before, after] = [from, to].map((version) => pastOf(storage, access, definition, id, pastPointOf({ version }), decision));
  if (!before || !after) return null;
  const unreadable = pastUnreadable(definition, unreadableUnder(access, definition, decision));
  const changes: RecordDiff['changes'] = {};
  for (const field of definition.fields) {
    if ('principal' in options && (field.hidden || unreadable.has(field.name))) continue;
    const was = before[field.name] ?? null;
    const is = after[field.name] ?? null;
    if (was !== is) changes[field.name] = { from: was, to: is };
  }
  return { id, from, to, changes };
}

/** `EntityRepository.revert`'s work, `requested` already bound to the calling request. */
export async function revertTo(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  id: string,
  version: number,
  requested: RepositoryWriteContext,
): Promise<Record<string, unknown>> {
  checkRepositoryOpen(storage, definition);
  const reading = decisionOf(access, definition, requested, 'history');
  const writing = decisionOf(access, definition, requested, 'update');
  // Version N is read in the write: replicated, a revert on an instance behind its stream is decided again once it caught up.
  const record = await storage.write((tx) => {
    const found = pastOf(storage, access, definition, id, pastPointOf({ version }), reading);
    if (!found) throw notFoundOrConcealed(storage, access, definition, id, version, reading);
    // Values from before a migration renamed their fields go back under the names of now.
    const past = renamedUndeclared(definition, underCurrentNames(found, storage.log.recordEvents(definition.name, id)));
    const kept = new Set(writing ? access!.unwritableFields(definition, writing) : []);
    const data: Record<string, unknown> = {};
    // A checked write keeps the record's owner, and refuses a value for it.
    if (writing && definition.permissions?.owner !== undefined) kept.add(definition.permissions.owner);
    for (const field of definition.fields) if (past[field.name] !== undefined && !kept.has(field.name)) data[field.name] = past[field.name];
    const checked = checkedWriteFor(access, definition, requested, 'update', data, id);
    // Version N's values, those the caller cannot see included: a field it did not have is cleared, not kept.
    delete checked.context.unreadable;
    checked.context.writeEvenIfUnchanged = true;
    checked.context.restoresVersion = true;
    return tx.replace(definition, id, checked.data, checked.context);
  });
  return shapeFor(access, definition, requested, record);
}

/**
 * Why a revert found no version to go back to: a refusal (audited as `denied`) when the record
 * exists and its principal may not read it, worded as for a missing one, which it cannot tell apart.
 */
function notFoundOrConcealed(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  id: string,
  version: number,
  reading: AccessDecision | undefined,
): Error {
  const missing = new RecordNotFoundException(definition.name, `${id} version ${version}`);
  if (!reading || reading.entityWide || !isRecordId(id)) return missing;
  const current = storage.tablesOf(definition).records.get(id);
  return current && !access!.canRead(definition, reading, current) ? new AccessDeniedException('concealed', missing.message) : missing;
}

/**
 * `state` with each value under a name the class no longer declares moved to the field the
 * migrations renamed it to (the renames of a record whose field was empty when they ran are in
 * no event of it), when that is one field: a name that meant several, or one a later step removed,
 * is left out, as undeclared.
 */
function renamedUndeclared(definition: EntityDefinition, state: StoredRecord): StoredRecord {
  let named: Record<string, unknown> | undefined;
  for (const [was, { names, removed }] of renamedNamesOf(definition.migrations)) {
    if (definition.fieldsByName.has(was) || state[was] === undefined) continue;
    named ??= { ...state };
    const [only] = names;
    if (!removed && names.size === 1 && definition.fieldsByName.has(only!) && named[only!] === undefined) named[only!] = state[was];
    delete named[was];
  }
  return (named ?? state) as StoredRecord;
}
