import {
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { METADATA_KEYS } from '../metadata/metadata.constants.js';
import { ENTITIES_MODULE_OPTIONS } from '../module/entities.module-definition.js';
import type { EntitiesModuleOptions } from '../module/entities-module-options.interface.js';
import type { EntityAction } from './entity-action.constants.js';
import { requirementFor } from './entity-permission.util.js';
import { resolvePrincipal } from './principal-resolver.util.js';

/**
 * Enforces the entity's `@Permission` rule for the action of each generated route:
 * 401 when the action needs a principal and there is none, 403 when the principal lacks
 * the permission. Fails closed: a route without a declared action is refused.
 */
@Injectable()
export class EntityAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ENTITIES_MODULE_OPTIONS) private readonly options: EntitiesModuleOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const definition = this.reflector.get<EntityDefinition | undefined>(METADATA_KEYS.definition, context.getClass());
    const action = this.reflector.get<EntityAction | undefined>(METADATA_KEYS.action, context.getHandler());
    if (!definition || !action) throw new ForbiddenException();
    const requirement = requirementFor(definition, action, this.options.requirePermissions ?? false);
    if (requirement.kind === 'open') return true;
    if (requirement.kind === 'closed') throw new ForbiddenException(`${definition.name} declares no @Permission and permissions are required`);
    const { principal, permissions } = await resolvePrincipal(context.switchToHttp().getRequest(), this.options);
    if (!principal) throw new UnauthorizedException();
    if (!permissions.holds(requirement.permission)) throw new ForbiddenException(`${action} on ${definition.name} needs ${requirement.permission}`);
    return true;
  }
}
