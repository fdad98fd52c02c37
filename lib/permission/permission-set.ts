import type { Principal } from '../common/principal.interface.js';

/**
 * The permission strings a principal holds, roles expanded, with a matcher that knows
 * the wildcards: `'*'` holds everything, `'permits:*'` every `permits:...`.
 */
export class PermissionSet {
  private readonly exact = new Set<string>();
  private readonly prefixes: string[] = [];
  private all = false;

  constructor(principal: Principal | undefined, roles: Readonly<Record<string, readonly string[]>>) {
    if (!principal) return;
    // Fail closed: a malformed principal (a string where a list belongs) holds nothing by it.
    const granted = Array.isArray(principal.permissions) ? [...principal.permissions] : [];
    for (const role of Array.isArray(principal.roles) ? principal.roles : []) {
      const rolePermissions = typeof role === 'string' && Object.prototype.hasOwnProperty.call(roles, role) ? roles[role] : undefined;
      if (Array.isArray(rolePermissions)) granted.push(...rolePermissions);
    }
    for (const permission of granted) {
      if (typeof permission !== 'string') continue;
      if (permission === '*') this.all = true;
      else if (permission.endsWith(':*')) this.prefixes.push(permission.slice(0, -1));
      else this.exact.add(permission);
    }
  }

  holds(permission: string): boolean {
    return this.all || this.exact.has(permission) || this.prefixes.some((prefix) => permission.startsWith(prefix));
  }
}
