import type { EntityAction } from '../common/entity-action.constants.js';
import type { BodyValidator } from './entity-body.util.js';
import type { HttpRequest } from './request-meta.util.js';
import { RouteGate, type RouteMethod, type RouteServices } from './route.gate.js';

/** The routes of an entity's controller: `purge` and `findAt` share a path with `remove` and `findOne`, not their action. */
export type EntityRouteName =
  | 'changes'
  | 'create'
  | 'createMany'
  | 'list'
  | 'findOne'
  | 'findAt'
  | 'replace'
  | 'update'
  | 'remove'
  | 'purge'
  | 'restore'
  | 'history'
  | 'diff'
  | 'revert'
  | 'audit';

/** The gate of each route of an entity's controller; `bodies` validate those of the routes that take a record. */
export function createEntityRouteGates(
  services: RouteServices,
  bodies: { create: BodyValidator; replace: BodyValidator; update: BodyValidator },
): Record<EntityRouteName, RouteGate> {
  const gate = (method: RouteMethod, path: string, action: EntityAction, body?: BodyValidator) => new RouteGate(services, method, path, action, body);
  return {
    create: gate('POST', '', 'create', bodies.create),
    createMany: gate('POST', 'batch', 'create'),
    list: gate('GET', '', 'read'),
    findOne: gate('GET', ':id', 'read'),
    replace: gate('PUT', ':id', 'update', bodies.replace),
    update: gate('PATCH', ':id', 'update', bodies.update),
    remove: gate('DELETE', ':id', 'delete'),
    purge: gate('DELETE', ':id', 'admin'),
    restore: gate('POST', ':id/restore', 'delete'),
    history: gate('GET', ':id/history', 'history'),
    findAt: gate('GET', ':id', 'history'),
    changes: gate('GET', 'changes', 'read'),
    diff: gate('GET', ':id/diff', 'history'),
    revert: gate('POST', ':id/revert', 'update'),
    audit: gate('GET', ':id/audit', 'audit'),
  };
}

/**
 * Answers a query string that chose no route (it could not be read) through `route`'s
 * checks: 401 and 403 come before its 400, as on every route, so a caller who may not take
 * the action learns nothing of what it asked.
 */
export function refuseThrough(route: RouteGate, request: HttpRequest, response: object, id: string, error: unknown): Promise<never> {
  return route.serve(request, response, id, () => Promise.reject(error));
}
