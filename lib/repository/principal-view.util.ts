import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { AccessDecision, AccessPolicy } from './access-policy.interface.js';
import type { EntityAction } from '../common/entity-action.constants.js';
import type { StoredRecord } from '../storage/entity-event.interface.js';
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
  return access.decide(definition, action, context.principal ?? undefined);
}

/** The fields a call's principal may not read; none for trusted calls. */
export function unreadableTo(access: AccessPolicy | undefined, definition: EntityDefinition, context: PrincipalContext): ReadonlySet<string> {
  if (!('principal' in context) || !access) return NO_FIELDS;
  const principal = context.principal ?? undefined;
  // Field rules look at the principal's permissions only, never at the action or a record.
  return access.unreadableFields(definition, { principal, permissions: access.permissionsOf(principal), entityWide: true });
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
 * A record as a call made with `context` returns it: for a principal, as the generated
 * routes answer it; for trusted code, every declared field, hidden ones included.
 */
export function shapeFor(
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  context: PrincipalContext,
  record: StoredRecord,
  unreadable: ReadonlySet<string> = unreadableTo(access, definition, context),
): Record<string, unknown> {
  return 'principal' in context ? toRecordView(definition, record, unreadable) : toDeclaredRecord(definition, record);
}
