import type { EntityDefinition, Principal } from '../../../lib/index.js';
import { PermissionSet } from '../../../lib/permission/permission-set.js';
import type { RouteAction } from './route-table.util.js';

export type Roles = Readonly<Record<string, readonly string[]>>;
/** Rights a principal holds on one record through grants (to it or its groups). */
export type GrantedRights = (principal: Principal, id: string) => readonly string[];

/** `allowed`, or the status README's rules refuse with. */
export type Verdict = { allowed: true } | { allowed: false; status: 401 | 403 | 404 };

const RECORD_LEVEL: ReadonlySet<RouteAction> = new Set(['read', 'history', 'update', 'delete']);

/** The permission an action needs, with README's defaults; `undefined` when it is open. */
export function requiredPermission(definition: EntityDefinition, action: RouteAction): string | undefined {
  const rules = definition.permissions;
  if (!rules) return undefined;
  const written = rules[action];
  if (written !== undefined) return written ?? undefined;
  switch (action) {
    case 'history':
      return requiredPermission(definition, 'read');
    case 'audit':
      return requiredPermission(definition, 'update');
    default:
      return `${definition.name}:${action}`;
  }
}

/**
 * README's access rules, written out from its text, as the oracle the generated attacks
 * are judged by: "an action without a rule needs '<name>:<action>'", "`null` opens it to
 * everyone"; "a rule and no principal gets 401";
 * an owner or a grant allows read, history, update and delete on its record; "a principal
 * without the entity-level permission and with no way to reach a record gets 403 on every
 * route, whatever the id. One that may reach records gets 404 for a record it may not
 * read, exactly as for a missing id, and 403 for a record it may read but not change."
 */
export function verdict(
  definition: EntityDefinition,
  action: RouteAction,
  principal: Principal | undefined,
  roles: Roles,
  /** The record a record route names (`undefined`: no record has its id), or `'collection'` for a list or create. */
  record: Readonly<Record<string, unknown>> | undefined | 'collection',
  granted: GrantedRights,
  hasGrantsInEntity: boolean,
): Verdict {
  const permission = requiredPermission(definition, action);
  if (permission === undefined) return { allowed: true };
  if (!principal) return { allowed: false, status: 401 };
  const permissions = new PermissionSet(principal, roles);
  if (permissions.holds(permission)) return { allowed: true };
  const owner = definition.permissions?.owner;
  if (!RECORD_LEVEL.has(action) || (owner === undefined && !hasGrantsInEntity)) return { allowed: false, status: 403 };
  // A list by a principal that may hold records is answered with those it may read.
  if (record === 'collection') return action === 'read' ? { allowed: true } : { allowed: false, status: 403 };
  if (!record) return { allowed: false, status: 404 };
  const owns = owner !== undefined && record[owner] === principal.id;
  const rights = granted(principal, record.id as string);
  const right = action === 'update' || action === 'delete' ? action : 'read';
  if (owns || rights.includes(right)) return { allowed: true };
  const readPermission = requiredPermission(definition, 'read');
  const canRead = readPermission === undefined || permissions.holds(readPermission) || rights.includes('read');
  return { allowed: false, status: right !== 'read' && canRead ? 403 : 404 };
}

/** Fields whose value this principal must never see: hidden ones, and those it may not read. */
export function unseenFields(definition: EntityDefinition, principal: Principal | undefined, roles: Roles): string[] {
  const permissions = new PermissionSet(principal, roles);
  return definition.fields
    .filter((field) => field.hidden || (field.permission?.read !== undefined && !(principal && permissions.holds(field.permission.read))))
    .map((field) => field.name);
}

/** Fields this principal may not write. */
export function unwritableFields(definition: EntityDefinition, principal: Principal | undefined, roles: Roles): string[] {
  const permissions = new PermissionSet(principal, roles);
  return definition.fields
    .filter((field) => field.permission?.write !== undefined && !(principal && permissions.holds(field.permission.write)))
    .map((field) => field.name);
}
