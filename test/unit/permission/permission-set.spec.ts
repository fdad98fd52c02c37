import { PermissionSet } from '../../../lib/permission/permission-set.js';
import type { Principal } from '../../../lib/common/principal.interface.js';

const ROLES = {
  clerk: ['permits:read', 'permits:write'],
  admin: ['*'],
  officer: ['permits:*'],
  empty: [],
};

function holds(principal: Principal | undefined, permission: string, roles: Record<string, readonly string[]> = ROLES): boolean {
  return new PermissionSet(principal, roles).holds(permission);
}

describe('PermissionSet', () => {
  it('holds nothing for an anonymous principal, not even with roles defined', () => {
    expect(holds(undefined, 'permits:read')).toBe(false);
    expect(holds(undefined, '*')).toBe(false);
  });

  it('holds nothing for a principal with neither permissions nor roles', () => {
    expect(holds({ id: 'nobody' }, 'permits:read')).toBe(false);
    expect(holds({ id: 'nobody', permissions: [], roles: [] }, 'permits:read')).toBe(false);
  });

  it('holds exactly the permissions listed, compared as whole strings', () => {
    const principal = { id: 'p', permissions: ['permits:read'] };
    expect(holds(principal, 'permits:read')).toBe(true);
    expect(holds(principal, 'permits:write')).toBe(false);
    expect(holds(principal, 'permits')).toBe(false);
    expect(holds(principal, 'permits:readx')).toBe(false);
    expect(holds(principal, 'PERMITS:READ')).toBe(false);
  });

  it('expands roles through the roles map, and combines them with permissions', () => {
    const principal = { id: 'c', roles: ['clerk'], permissions: ['inspections:read'] };
    expect(holds(principal, 'permits:read')).toBe(true);
    expect(holds(principal, 'permits:write')).toBe(true);
    expect(holds(principal, 'inspections:read')).toBe(true);
    expect(holds(principal, 'permits:delete')).toBe(false);
  });

  it('grants nothing for a role the map does not know, inherited object keys included', () => {
    for (const role of ['wizard', 'toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf', '']) {
      expect({ role, holds: holds({ id: 'x', roles: [role] }, 'permits:read') }).toEqual({ role, holds: false });
      expect({ role, holds: holds({ id: 'x', roles: [role] }, '*') }).toEqual({ role, holds: false });
    }
    expect(holds({ id: 'x', roles: ['empty'] }, 'permits:read')).toBe(false);
  });

  it("treats '*' as every permission, given directly or through a role", () => {
    for (const principal of [
      { id: 'a', permissions: ['*'] },
      { id: 'b', roles: ['admin'] },
    ]) {
      expect(holds(principal, 'permits:read')).toBe(true);
      expect(holds(principal, 'anything:at:all')).toBe(true);
      expect(holds(principal, 'plain')).toBe(true);
    }
  });

  it("treats 'permits:*' as every permits:... permission and nothing else", () => {
    for (const principal of [
      { id: 'a', permissions: ['permits:*'] },
      { id: 'b', roles: ['officer'] },
    ]) {
      expect(holds(principal, 'permits:read')).toBe(true);
      expect(holds(principal, 'permits:admin')).toBe(true);
      expect(holds(principal, 'permits:nested:deeper')).toBe(true);
      expect(holds(principal, 'permits')).toBe(false);
      expect(holds(principal, 'permitsx:read')).toBe(false);
      expect(holds(principal, 'permit:read')).toBe(false);
      expect(holds(principal, 'inspections:read')).toBe(false);
    }
  });

  it('reads no wildcard into strings that only look like one', () => {
    for (const lookalike of ['permits*', 'permits:**x', '*permits', 'permits.*', ' *', '* ']) {
      const principal = { id: 'l', permissions: [lookalike] };
      expect({ lookalike, holds: holds(principal, 'permits:read') }).toEqual({ lookalike, holds: false });
      expect({ lookalike, holds: holds(principal, 'inspections:read') }).toEqual({ lookalike, holds: false });
    }
  });

  it('ignores entries that are not strings, in permissions and in role lists', () => {
    const junk = [null, undefined, 42, { toString: () => '*' }, ['*'], true] as unknown as string[];
    expect(holds({ id: 'j', permissions: junk }, 'permits:read')).toBe(false);
    expect(holds({ id: 'j', permissions: junk }, '42')).toBe(false);
    expect(holds({ id: 'j', roles: ['junk'] }, 'permits:read', { junk })).toBe(false);
    expect(holds({ id: 'j', permissions: [...junk, 'permits:read'] }, 'permits:read')).toBe(true);
  });

  it('does not let a principal change the roles map it was checked against', () => {
    const roles: Record<string, string[]> = { clerk: ['permits:read'] };
    const set = new PermissionSet({ id: 'c', roles: ['clerk'], permissions: ['permits:*'] }, roles);
    expect(roles).toEqual({ clerk: ['permits:read'] });
    expect(set.holds('permits:write')).toBe(true);
  });
});
