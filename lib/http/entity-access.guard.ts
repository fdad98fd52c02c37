import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { AuditService } from '../audit/audit-trail.store.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { METADATA_KEYS } from '../metadata/metadata.constants.js';
import { ENTITIES_MODULE_OPTIONS } from '../module/entities.module-definition.js';
import type { EntitiesModuleOptions } from '../module/entities-module-options.interface.js';
import { AccessDeniedException } from '../permission/access-denied.exception.js';
import type { EntityAction } from '../permission/entity-action.constants.js';
import { EntityAccess } from '../permission/entity-access.store.js';
import { resolvePrincipal } from '../permission/principal-resolver.util.js';
import { accessDeniedToHttp } from './entity-errors.interceptor.js';
import { requestMetaOf } from './request-meta.util.js';
import { RECORD_ID } from '../storage/record-id.util.js';

const WRITE_ACTIONS: ReadonlySet<EntityAction> = new Set(['create', 'update', 'delete']);

/**
 * Enforces the entity-level `@Permission` rule on the grants routes: 401 when the action
 * needs a principal and there is none, 403 when the principal lacks the permission, unless
 * an owner rule or a grant could still allow it on the record (the handler checks that).
 * Refused writes on `@Audited` entities are written to the audit trail. Fails closed: a
 * route without a declared action is refused.
 */
@Injectable()
export class EntityAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ENTITIES_MODULE_OPTIONS) private readonly options: EntitiesModuleOptions,
    private readonly access: EntityAccess,
    private readonly audit: AuditService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const definition = this.reflector.get<EntityDefinition | undefined>(METADATA_KEYS.definition, context.getClass());
    const action = this.reflector.getAllAndOverride<EntityAction | undefined>(METADATA_KEYS.action, [context.getHandler(), context.getClass()]);
    const request = context.switchToHttp().getRequest<Parameters<typeof requestMetaOf>[0] & { params?: Record<string, string> }>();
    if (!definition || !action) throw accessDeniedToHttp(new AccessDeniedException('forbidden', 'this route declares no action'));
    const { principal, permissions } = await resolvePrincipal(request, this.options);
    try {
      this.access.decide(definition, action, principal, permissions);
      return true;
    } catch (error) {
      if (!(error instanceof AccessDeniedException)) throw error;
      if (definition.audited && WRITE_ACTIONS.has(action)) {
        await this.audit.recordDenied({
          entity: definition.name,
          // An id no record can have (one too long for a key, say) is left out rather than stored.
          id: RECORD_ID.test(request.params?.id ?? '') ? request.params!.id! : '',
          actor: principal?.id,
          request: requestMetaOf(request, this.adapterHost.httpAdapter.getRequestUrl(request) as string),
        });
      }
      throw accessDeniedToHttp(error);
    }
  }
}
