import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { METADATA_KEYS } from '../common/metadata.constants.js';
import { ENTITIES_MODULE_OPTIONS } from '../common/entity-tokens.util.js';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import { AccessDeniedException } from '../repository/access-denied.exception.js';
import type { EntityAction } from '../common/entity-action.constants.js';
import { EntityAccess } from '../permission/entity-access.service.js';
import { resolvePrincipal } from '../permission/principal-resolver.util.js';
import { accessDeniedToHttp } from './entity-errors.interceptor.js';

/**
 * Enforces the entity-level `@Permission` rule on the grants routes: 401 when the action
 * needs a principal and there is none, 403 when the principal lacks the permission. Their
 * action is `admin`, never a write, so a refusal is not an audited write (the generated
 * routes audit theirs in `RouteGate`). Fails closed: a route without a declared action is
 * refused.
 */
@Injectable()
export class EntityAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ENTITIES_MODULE_OPTIONS) private readonly options: EntitiesModuleOptions,
    private readonly access: EntityAccess,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const definition = this.reflector.get<EntityDefinition | undefined>(METADATA_KEYS.definition, context.getClass());
    const action = this.reflector.getAllAndOverride<EntityAction | undefined>(METADATA_KEYS.action, [context.getHandler(), context.getClass()]);
    if (!definition || !action) throw accessDeniedToHttp(new AccessDeniedException('forbidden', 'this route declares no action'));
    const { principal, permissions } = await resolvePrincipal(context.switchToHttp().getRequest<object>(), this.options);
    try {
      this.access.decide(definition, action, principal, permissions);
      return true;
    } catch (error) {
      throw error instanceof AccessDeniedException ? accessDeniedToHttp(error) : error;
    }
  }
}
