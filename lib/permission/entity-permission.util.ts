import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityAction } from './entity-action.constants.js';

/** What an action on an entity needs: nothing, one permission string, or it is closed to all. */
export type Requirement = { kind: 'open' } | { kind: 'permission'; permission: string } | { kind: 'closed' };

/**
 * The rule behind an action, with API.md's defaults: `history` falls back to `read`,
 * `audit` to `update`, `admin` to `'<name>:admin'`. An entity without `@Permission` is
 * open, or closed when the module says `requirePermissions: true`.
 */
export function requirementFor(definition: EntityDefinition, action: EntityAction, requirePermissions: boolean): Requirement {
  const rules = definition.permissions;
  if (!rules) return requirePermissions ? { kind: 'closed' } : { kind: 'open' };
  const permission =
    action === 'history'
      ? (rules.history ?? rules.read)
      : action === 'audit'
        ? (rules.audit ?? rules.update)
        : action === 'admin'
          ? (rules.admin ?? `${definition.name}:admin`)
          : rules[action];
  return permission === undefined ? { kind: 'open' } : { kind: 'permission', permission };
}
