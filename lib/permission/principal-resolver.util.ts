import { UnauthorizedException } from '@nestjs/common';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { ACTOR } from '../storage/write-context.util.js';
import { PermissionSet } from './permission-set.js';
import type { Principal } from '../common/principal.interface.js';

export interface ResolvedPrincipal {
  principal?: Principal;
  permissions: PermissionSet;
}

/**
 * Where a request keeps its resolution: one per request, however many guards and handlers
 * ask, gone with the request. A property rather than a WeakMap entry, which costs the garbage
 * collector more than the resolution itself.
 */
const RESOLVED = Symbol('nestjs-declarative-entities principal');

type Resolving = { [RESOLVED]?: ResolvedPrincipal | Promise<ResolvedPrincipal> };

/**
 * The request's principal (via `getPrincipal`, default `req.user`) and its effective
 * permission set, computed once and remembered for the request's lifetime. Synchronous when
 * `getPrincipal` is: a read that waits for nothing makes no promise for it.
 */
export function resolvePrincipal(request: object, options: EntitiesModuleOptions): ResolvedPrincipal | Promise<ResolvedPrincipal> {
  const carrier = request as Resolving;
  let result = carrier[RESOLVED];
  if (!result) {
    result = resolve(request, options);
    carrier[RESOLVED] = result;
  }
  return result;
}

function resolve(request: object, options: EntitiesModuleOptions): ResolvedPrincipal | Promise<ResolvedPrincipal> {
  const getPrincipal = options.getPrincipal ?? defaultPrincipalOf;
  const found = getPrincipal(request);
  if (typeof (found as PromiseLike<unknown> | null | undefined)?.then === 'function') {
    return Promise.resolve(found).then((principal) => settle(principal, options));
  }
  return settle(found as Principal | null | undefined, options);
}

/** The principal, if it has an id to act under: one without a non-empty string id counts as none, over HTTP and in repository calls alike. */
export function signedIn(found: Principal | null | undefined): Principal | undefined {
  return found && typeof found.id === 'string' && found.id.length > 0 ? found : undefined;
}

function settle(found: Principal | null | undefined, options: EntitiesModuleOptions): ResolvedPrincipal {
  const principal = signedIn(found);
  // The id is stored in audit and idempotency keys, which LMDB bounds; a bad one is refused, not stored.
  if (principal && !ACTOR.test(principal.id)) {
    throw new UnauthorizedException('the principal id must be 1 to 256 characters, without control characters');
  }
  return { principal, permissions: new PermissionSet(principal, options.roles ?? {}) };
}

/**
 * `req.user`, Passport's convention. On Fastify, a Nest middleware is handed the Node request
 * beneath Fastify's, so a `user` it sets is found there.
 */
function defaultPrincipalOf(req: { user?: Principal; raw?: { user?: Principal } }): Principal | undefined {
  return req.user ?? req.raw?.user;
}
