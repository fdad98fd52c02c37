import type { EntityPermissionRules } from '../metadata/decorator-options.interface.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityAction } from '../common/entity-action.constants.js';

/** What an action on an entity needs: nothing, one permission string, or it is closed to all. */
export type Requirement = { kind: 'open' } | { kind: 'permission'; permission: string } | { kind: 'closed' };

const OPEN: Requirement = { kind: 'open' };
const CLOSED: Requirement = { kind: 'closed' };

/**
 * The rule behind an action. On an entity with `@Permission`, an action without a rule
 * needs `'<name>:<action>'` (issue 14: an open default let anyone delete what only some may
 * read), except `history`, which follows `read`, and `audit`, which follows `update`; a
 * rule of `null` opens the action. An entity without `@Permission` is open, or closed when
 * the module says `requirePermissions: true`.
 */
export function requirementFor(definition: EntityDefinition, action: EntityAction, requirePermissions: boolean): Requirement {
  const rules = definition.permissions;
  if (!rules) return requirePermissions ? CLOSED : OPEN;
  const permission = ruleOf(definition.name, rules, action);
  return permission === null ? OPEN : { kind: 'permission', permission };
}

// `!== undefined`, not `??`: a `null` rule is an answer, not a missing one.
function ruleOf(name: string, rules: Readonly<EntityPermissionRules>, action: EntityAction): string | null {
  const written = rules[action];
  if (written !== undefined) return written;
  if (action === 'history') return ruleOf(name, rules, 'read');
  if (action === 'audit') return ruleOf(name, rules, 'update');
  return `${name}:${action}`;
}

/**
 * Whether the owner rule or a grant opens an action on one record: `read`, `update` and
 * `delete` always; `history` only while it follows `read`'s rule, since an entity that gives
 * history a rule of its own keeps past values from those who may only read the present.
 */
export function recordLevel(definition: EntityDefinition, action: EntityAction): boolean {
  if (action === 'read' || action === 'update' || action === 'delete') return true;
  if (action !== 'history') return false;
  const rules = definition.permissions;
  return !rules || rules.history === undefined || rules.history === ruleOf(definition.name, rules, 'read');
}
