import { currentRequestId } from '../common/request-context.util.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { InvalidQueryException } from '../query/invalid-query.exception.js';
import type { WriteContext } from '../storage/write-context.interface.js';
import { AccessDeniedException } from './access-denied.exception.js';
import type { AccessDecision, AccessPolicy } from './access-policy.interface.js';
import type { EntityAction } from '../common/entity-action.constants.js';
import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { DecidedContext } from './decided-context.interface.js';
import type { PrincipalContext } from './principal-context.interface.js';
import { toDeclaredRecord, toRecordView } from './record-view.util.js';

const NO_FIELDS: ReadonlySet<string> = new Set();

/**
 * The access decision of a repository call made on behalf of a principal; `undefined` for
 * trusted calls, and where no access rules are wired (a repository built by hand).
 */
export function decisionOf(
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  context: PrincipalContext,
  action: EntityAction,
): AccessDecision | undefined {
  if (!('principal' in context) || !access) return undefined;
  const decided = decidedFor(access, definition, context);
  return decided?.action === action ? decided : access.decide(definition, action, context.principal ?? undefined);
}

/** The fields a call's principal may not read; none for trusted calls. */
export function unreadableTo(access: AccessPolicy | undefined, definition: EntityDefinition, context: PrincipalContext): ReadonlySet<string> {
  if (!('principal' in context) || !access) return NO_FIELDS;
  const principal = context.principal ?? undefined;
  // Field rules look at the principal's permissions only, never at the action or a record, so a decision for any action will do.
  const decision = decidedFor(access, definition, context) ?? {
    entity: definition.name,
    action: 'read',
    principal,
    permissions: access.permissionsOf(principal),
    entityWide: true,
  };
  return access.unreadableFields(definition, decision);
}

/**
 * The decision a route made for this call: one the policy itself issued, for this entity and
 * the call's principal. Anything else (a decision built by a caller, one for another entity)
 * is ignored and the call decided afresh.
 */
function decidedFor(access: AccessPolicy, definition: EntityDefinition, context: DecidedContext): AccessDecision | undefined {
  const decided = context.decision;
  if (!decided || decided.entity !== definition.name || decided.principal !== (context.principal ?? undefined)) return undefined;
  return access.issued(decided) ? decided : undefined;
}

/** The fields a decision's principal may not read; none without a decision. */
export function unreadableUnder(access: AccessPolicy | undefined, definition: EntityDefinition, decision: AccessDecision | undefined): ReadonlySet<string> {
  return decision && access ? access.unreadableFields(definition, decision) : NO_FIELDS;
}

/**
 * A stored record, or none, as a read made with `context` answers it: `null` when missing
 * or concealed from the principal, its view otherwise (see `shapeFor`).
 */
export function readFor(
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  context: PrincipalContext,
  record: StoredRecord | undefined,
): Record<string, unknown> | null {
  if (!('principal' in context)) return record ? toDeclaredRecord(definition, record) : null;
  const decision = decisionOf(access, definition, context, 'read');
  if (!record || (decision && !access!.canRead(definition, decision, record))) return null;
  return toRecordView(definition, record, unreadableUnder(access, definition, decision));
}

/**
 * A record as a write made with `context` returns it: for a principal, as the generated
 * routes answer it, and to one that may change the record but not read it (an `update`
 * permission or grant without `read`), only its id and version, so a write's answer never
 * shows what a read would conceal; for trusted code, every declared field, hidden ones included.
 */
export function shapeFor(
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  context: PrincipalContext,
  record: StoredRecord,
  unreadable: ReadonlySet<string> = unreadableTo(access, definition, context),
): Record<string, unknown> {
  if (!('principal' in context)) return toDeclaredRecord(definition, record);
  if (access) {
    const principal = context.principal ?? undefined;
    const permissions = decidedFor(access, definition, context)?.permissions ?? access.permissionsOf(principal);
    if (!access.mayRead(definition, principal, permissions, record)) return { id: record.id, version: record.version };
  }
  return toRecordView(definition, record, unreadable);
}

/**
 * Applies the principal's rules to a write: the entity rule (or the route's decision), field
 * rules on the data, the owner stamp on creates, and the record-level check to run inside
 * the transaction. The write context it returns is the storage's, without the principal.
 */
export function checkedWriteFor(
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  context: PrincipalContext & WriteContext,
  action: 'create' | 'update' | 'delete' | 'admin',
  data: unknown,
  id?: string,
): { data: unknown; context: WriteContext } {
  const { principal: _principal, decision: _decided, ...writeContext } = context as PrincipalContext & WriteContext & DecidedContext;
  const decision = decisionOf(access, definition, context, action);
  if (!decision) return { data, context: writeContext };
  const checked = access!.checkWrite(definition, decision, data, id);
  // Not `{ ...writeContext, ...checked.context }`: V8 takes about a microsecond to add a key to an object begun by a spread.
  const merged: WriteContext = Object.assign({}, writeContext, checked.context);
  merged.actor = writeContext.actor ?? checked.context.actor;
  return { data: checked.data, context: merged };
}

/**
 * The fields a principal's query may filter and sort on: a hidden field is answered as one
 * that does not exist (as over HTTP), one it may not read is refused.
 */
export function checkQueryFields(definition: EntityDefinition, unreadable: ReadonlySet<string>, filtered: readonly string[], sorted: string): void {
  const hidden = (field: string) => definition.fieldsByName.get(field)?.hidden === true;
  const filter = filtered.find(hidden);
  if (filter) throw new InvalidQueryException(`cannot filter on ${filter}: ${definition.name} has no such field`);
  if (hidden(sorted)) throw new InvalidQueryException(`cannot sort by ${sorted}: ${definition.name} has no such field`);
  const refused = [...filtered, sorted].find((field) => unreadable.has(field));
  if (refused) throw new AccessDeniedException('forbidden', `filtering or sorting on ${refused} is not allowed`);
}

/**
 * The write context, with the id of the request being served when it names no request of its
 * own, so the write is audited under it. Read when the call is made: lmdb runs queued
 * transaction callbacks in the context of whichever write started the batch.
 */
export function withRequestOf<C extends WriteContext>(context: C): C {
  if (context.request !== undefined) return context;
  const id = currentRequestId();
  return id === undefined ? context : Object.assign({}, context, { request: { id } });
}
