import type { QueryClause } from '../query/find-query.interface.js';
import type { EntityAction } from '../common/entity-action.constants.js';
import type { Principal } from '../common/principal.interface.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { WriteContext } from '../storage/write-context.interface.js';

/** The permission strings a principal holds, wildcards and roles resolved. */
export interface HeldPermissions {
  holds(permission: string): boolean;
}

/**
 * One principal's standing on one action of an entity. `entityWide`: the action is open or
 * the principal holds its permission; otherwise each record must be allowed by the owner
 * rule or a grant. It names its entity and action so a decision made for one is never
 * applied to another.
 */
export interface AccessDecision {
  entity: string;
  action: EntityAction;
  principal?: Principal;
  permissions: HeldPermissions;
  entityWide: boolean;
}

/**
 * The access rules a repository applies to calls made on behalf of a principal. The
 * repository owns this contract; `permission/` implements it, so the repository never
 * depends on how rules, roles and grants are stored.
 */
export interface AccessPolicy {
  permissionsOf(principal: Principal | undefined): HeldPermissions;
  /** Decides an action at the entity level; throws `AccessDeniedException` when no record could allow it either. */
  decide(definition: EntityDefinition, action: EntityAction, principal: Principal | undefined): AccessDecision;
  /** Whether this policy's `decide` made `decision`: only such a decision is applied without deciding again. */
  issued(decision: AccessDecision): boolean;
  /** Whether a record belongs in a list answered under a decision that is not entity-wide. */
  canRead(definition: EntityDefinition, decision: AccessDecision, record: StoredRecord): boolean;
  /**
   * The owner-rule condition every record a decision that is not entity-wide reads meets, when
   * it reads only its principal's own (no grant in the entity): a list narrows to it, so an
   * index on the owner field answers it rather than a walk over every record.
   */
  ownCondition(definition: EntityDefinition, decision: AccessDecision): QueryClause | undefined;
  /** Whether a principal, holding `permissions`, may read one record: through the entity's read rule, the owner rule or a grant. */
  mayRead(definition: EntityDefinition, principal: Principal | undefined, permissions: HeldPermissions, record: StoredRecord): boolean;
  /** Whether a decision allows its action on one record (entity-wide, or through the owner rule or a grant). */
  permits(definition: EntityDefinition, decision: AccessDecision, record: StoredRecord): boolean;
  /** Fields the decision's principal may not read. */
  unreadableFields(definition: EntityDefinition, decision: AccessDecision): ReadonlySet<string>;
  /** Fields the decision's principal may not write. */
  unwritableFields(definition: EntityDefinition, decision: AccessDecision): ReadonlySet<string>;
  /** A write's decision applied to its data: the data to write, and the write context to write it under. */
  checkWrite(definition: EntityDefinition, decision: AccessDecision, data: unknown, id?: string): { data: unknown; context: WriteContext };
}
