import 'reflect-metadata';
import type { EntityPermissionRules } from '../../../lib/metadata/decorator-options.interface.js';
import type { EntityDefinition } from '../../../lib/metadata/entity-definition.interface.js';
import type { EntityAction } from '../../../lib/common/entity-action.constants.js';
import { requirementFor, type Requirement } from '../../../lib/permission/entity-permission.util.js';

const ACTIONS: EntityAction[] = ['read', 'create', 'update', 'delete', 'history', 'audit', 'admin'];

/** The requirement of every action of an entity `claims` with these rules (or without `@Permission`). */
function requirements(rules: EntityPermissionRules | undefined, requirePermissions = false): Record<EntityAction, Requirement> {
  const definition = { name: 'claims', permissions: rules } as EntityDefinition;
  return Object.fromEntries(ACTIONS.map((action) => [action, requirementFor(definition, action, requirePermissions)])) as Record<EntityAction, Requirement>;
}

const needs = (permission: string): Requirement => ({ kind: 'permission', permission });
const OPEN: Requirement = { kind: 'open' };

describe('requirementFor', () => {
  it("requires '<name>:<action>' of every action without a rule on an entity with @Permission", () => {
    expect(requirements({})).toEqual({
      read: needs('claims:read'),
      create: needs('claims:create'),
      update: needs('claims:update'),
      delete: needs('claims:delete'),
      history: needs('claims:read'),
      audit: needs('claims:update'),
      admin: needs('claims:admin'),
    });
  });

  it("closes delete on README's old claims example, which had no delete rule", () => {
    expect(requirements({ read: 'claims:read', create: 'claims:file', update: 'claims:review', owner: 'filedBy' }).delete).toEqual(needs('claims:delete'));
  });

  it('lets history follow the read rule and audit the update rule, written or defaulted, unless they have their own', () => {
    expect(requirements({ read: 'claims:see', update: 'claims:edit' })).toMatchObject({ history: needs('claims:see'), audit: needs('claims:edit') });
    expect(requirements({ read: null, update: null })).toMatchObject({ history: OPEN, audit: OPEN });
    expect(requirements({ read: null, history: 'claims:past', audit: null })).toMatchObject({ read: OPEN, history: needs('claims:past'), audit: OPEN });
  });

  it('opens an action whose rule is null, and only that action', () => {
    expect(requirements({ delete: null })).toEqual({
      read: needs('claims:read'),
      create: needs('claims:create'),
      update: needs('claims:update'),
      delete: OPEN,
      history: needs('claims:read'),
      audit: needs('claims:update'),
      admin: needs('claims:admin'),
    });
  });

  it('opens a null rule whatever requirePermissions says', () => {
    expect(requirements({ read: null }, true).read).toEqual(OPEN);
  });

  it('leaves an entity without @Permission open, or closed when permissions are required', () => {
    for (const action of ACTIONS) {
      expect(requirements(undefined)[action]).toEqual(OPEN);
      expect(requirements(undefined, true)[action]).toEqual({ kind: 'closed' });
    }
  });
});
