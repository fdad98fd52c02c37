import type { EntitiesModuleOptions } from '../module/entities-module-options.interface.js';
import { PermissionSet } from './permission-set.util.js';
import type { Principal } from './principal.interface.js';

export interface ResolvedPrincipal {
  principal?: Principal;
  permissions: PermissionSet;
}

/** One resolution per request, however many guards and handlers ask. */
const resolved = new WeakMap<object, Promise<ResolvedPrincipal>>();

/**
 * The request's principal (via `getPrincipal`, default `req.user`) and its effective
 * permission set, computed once and remembered for the request's lifetime.
 */
export function resolvePrincipal(request: object, options: EntitiesModuleOptions): Promise<ResolvedPrincipal> {
  let result = resolved.get(request);
  if (!result) {
    result = resolve(request, options);
    resolved.set(request, result);
  }
  return result;
}

async function resolve(request: object, options: EntitiesModuleOptions): Promise<ResolvedPrincipal> {
  const getPrincipal = options.getPrincipal ?? ((req: { user?: Principal }) => req.user);
  const found = (await getPrincipal(request)) ?? undefined;
  const principal = found && typeof found.id === 'string' && found.id.length > 0 ? found : undefined;
  return { principal, permissions: new PermissionSet(principal, options.roles ?? {}) };
}
