import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import type { AccessDecision, AccessPolicy, HeldPermissions } from '../repository/access-policy.interface.js';
import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { WriteContext } from '../storage/write-context.interface.js';
import { AccessDeniedException } from '../repository/access-denied.exception.js';
import { InvalidRecordException } from '../storage/invalid-record.exception.js';
import type { AclService } from './acl.service.js';
import type { RecordRight } from './acl-subjects.util.js';
import type { EntityAction } from '../common/entity-action.constants.js';
import { recordLevel, requirementFor } from './entity-permission.util.js';
import { signedIn } from './principal-resolver.util.js';
import { PermissionSet } from './permission-set.js';
import type { Principal } from '../common/principal.interface.js';
import type { QueryClause } from '../query/find-query.interface.js';

/**
 * A decision `decide` made. The private field is its brand: no object built elsewhere can
 * carry it, so a caller cannot hand the repository a decision it made up (a WeakSet of issued
 * decisions did the same at a garbage collector's cost on every request).
 */
class IssuedDecision implements AccessDecision {
  readonly #policy: EntityAccess;

  constructor(
    policy: EntityAccess,
    readonly entity: string,
    readonly action: EntityAction,
    readonly principal: Principal | undefined,
    readonly permissions: PermissionSet,
    readonly entityWide: boolean,
  ) {
    this.#policy = policy;
  }

  /** Whether `policy` made `decision`. */
  static by(policy: EntityAccess, decision: AccessDecision): boolean {
    return #policy in decision && decision.#policy === policy;
  }
}

const NO_FIELDS: ReadonlySet<string> = new Set();

/**
 * Every access rule in one place. The 404-or-403 rule: a principal without the entity-level
 * permission and with no way to hold a record (no owner rule, no grant in the entity) gets
 * 403 on every route, whatever the id. One that may hold records gets 404 for each record it
 * may not read (exactly as for a missing id) and 403 for a record it may read but not change,
 * so no response confirms an id it may not see.
 *
 * Every access rule in one place: entity-level `@Permission` rules with their defaults,
 * the owner rule, grants through `AclService`, and field-level read/write rules. Used by the
 * generated routes and by repositories called with a principal.
 */
export class EntityAccess implements AccessPolicy {
  constructor(
    private readonly options: EntitiesModuleOptions,
    readonly acl: AclService,
  ) {}

  issued(decision: AccessDecision): boolean {
    return IssuedDecision.by(this, decision);
  }

  permissionsOf(principal: Principal | undefined): PermissionSet {
    return new PermissionSet(signedIn(principal), this.options.roles ?? {});
  }

  /** Decides an action at the entity level; throws when no record could allow it either. */
  decide(definition: EntityDefinition, action: EntityAction, given: Principal | undefined, permissions?: PermissionSet): AccessDecision {
    // Repository calls pass the app's own principal objects: an id-less one owns no record and holds no role.
    const principal = signedIn(given);
    permissions ??= this.permissionsOf(principal);
    const requirement = requirementFor(definition, action, this.options.requirePermissions ?? false);
    const decision = (entityWide: boolean): AccessDecision => new IssuedDecision(this, definition.name, action, principal, permissions, entityWide);
    if (requirement.kind === 'open') return decision(true);
    if (requirement.kind === 'closed') {
      throw new AccessDeniedException('forbidden', `${definition.name} declares no @Permission and permissions are required`);
    }
    if (!principal) throw new AccessDeniedException('unauthenticated', `${action} on ${definition.name} needs a signed-in principal`);
    if (permissions.holds(requirement.permission)) return decision(true);
    if (recordLevel(definition, action) && this.mayHoldRecords(definition, principal)) return decision(false);
    throw new AccessDeniedException('forbidden', `${action} on ${definition.name} needs ${requirement.permission}`);
  }

  /**
   * Checks one record for a decision that is not entity-wide. A principal that may not
   * read the record learns nothing about it (`concealed`, answered like a missing id); one
   * that may read it but not change it is `forbidden`.
   */
  checkRecord(definition: EntityDefinition, decision: AccessDecision, action: EntityAction, record: StoredRecord): void {
    if (decision.entityWide) return;
    const right: RecordRight = action === 'update' || action === 'delete' ? action : 'read';
    if (this.allows(definition, decision, record, right)) return;
    const readable = right !== 'read' && (this.holdsEntity(definition, 'read', decision.permissions) || this.allows(definition, decision, record, 'read'));
    throw new AccessDeniedException(
      readable ? 'forbidden' : 'concealed',
      readable ? `${action} on this ${definition.name} record is not allowed` : `${definition.name} ${JSON.stringify(record.id)} not found`,
    );
  }

  /**
   * Applies a write's decision to its data: field write rules, the owner stamp on a create
   * (and the owner field never taken from a body), and for a change of an existing record,
   * a check to run inside its transaction and the fields a replace must keep.
   */
  checkWrite(definition: EntityDefinition, decision: AccessDecision, data: unknown, id?: string): { data: unknown; context: WriteContext } {
    const { principal, action } = decision;
    const unwritable = this.unwritableFields(definition, decision);
    // A key set to `undefined` gives no value, in a repository call as everywhere else.
    const fields = data !== null && typeof data === 'object' ? Object.keys(data).filter((field) => (data as Record<string, unknown>)[field] !== undefined) : [];
    const refused = fields.filter((field) => unwritable.has(field));
    if (refused.length > 0) throw new AccessDeniedException('forbidden', `writing ${refused.join(', ')} is not allowed`);
    const owner = definition.permissions?.owner;
    let checked = data;
    if (owner !== undefined && action === 'create' && data !== null && typeof data === 'object') {
      // Refused rather than dropped unseen; a change is held to the record's owner inside its transaction (`ownerField`).
      const claimed = (data as Record<string, unknown>)[owner];
      if (claimed !== undefined && claimed !== principal?.id) throw new InvalidRecordException(definition.name, [`property ${owner} should not exist`]);
      if (principal) checked = Object.assign({}, data, { [owner]: principal.id });
    }
    // Keys are added below: V8 takes about a microsecond to add one to an object begun by a spread.
    const context: WriteContext = {};
    if (principal) context.actor = principal.id;
    const unreadable = this.unreadableFields(definition, decision);
    if (fields.some((field) => unreadable.has(field) || definition.fieldsByName.get(field)?.hidden)) context.writeEvenIfUnchanged = true;
    if (id !== undefined) {
      if (!decision.entityWide) context.authorize = (record) => this.checkRecord(definition, decision, action, record);
      context.preserveFields = new Set([...unwritable, ...(owner ? [owner] : [])]);
      if (owner !== undefined) context.ownerField = owner;
      context.unreadable = unreadable;
      // Whether this caller may read the record is known inside the transaction, from the record (see `WriteContext.readable`).
      if (!this.holdsEntity(definition, 'read', decision.permissions)) context.readable = (record) => this.allows(definition, decision, record, 'read');
    }
    return { data: checked, context };
  }

  /** Whether a record belongs in a list answered under a decision that is not entity-wide. */
  canRead(definition: EntityDefinition, decision: AccessDecision, record: StoredRecord): boolean {
    return decision.entityWide || this.allows(definition, decision, record, 'read');
  }

  /** Without a grant in the entity, the owner rule is the only way to its records: a list needs look no further than the owner field's value. */
  ownCondition(definition: EntityDefinition, decision: AccessDecision): QueryClause | undefined {
    const owner = definition.permissions?.owner;
    const principal = signedIn(decision.principal);
    if (decision.entityWide || owner === undefined || !principal || this.acl.hasGrantsIn(principal, definition.name)) return undefined;
    return { field: owner, op: 'eq', value: principal.id };
  }

  mayRead(definition: EntityDefinition, principal: Principal | undefined, permissions: HeldPermissions, record: StoredRecord): boolean {
    return this.holdsEntity(definition, 'read', permissions) || this.allows(definition, { principal }, record, 'read');
  }

  permits(definition: EntityDefinition, decision: AccessDecision, record: StoredRecord): boolean {
    const { action } = decision;
    return (
      decision.entityWide ||
      (recordLevel(definition, action) && this.allows(definition, decision, record, action === 'update' || action === 'delete' ? action : 'read'))
    );
  }

  /** Fields the principal may not read: left out of every response, refused in filters and sorts. */
  unreadableFields(definition: EntityDefinition, decision: AccessDecision): ReadonlySet<string> {
    return this.guardedFields(definition, decision, 'read');
  }

  /** Fields the principal may not write: refused in bodies, kept as they are by a replace. */
  unwritableFields(definition: EntityDefinition, decision: AccessDecision): ReadonlySet<string> {
    return this.guardedFields(definition, decision, 'write');
  }

  private guardedFields(definition: EntityDefinition, decision: AccessDecision, kind: 'read' | 'write'): ReadonlySet<string> {
    let fields: Set<string> | undefined;
    for (const field of definition.fields) {
      const permission = field.permission?.[kind];
      if (permission !== undefined && !(decision.principal && decision.permissions.holds(permission))) (fields ??= new Set()).add(field.name);
    }
    return fields ?? NO_FIELDS;
  }

  /**
   * Whether some record could allow the principal what the entity rule does not: always
   * under an owner rule, otherwise only when it holds a grant in this entity. Without
   * either, every record route answers 403 alike, whether the id exists or not.
   */
  private mayHoldRecords(definition: EntityDefinition, principal: Principal): boolean {
    return definition.permissions?.owner !== undefined || this.acl.hasGrantsIn(principal, definition.name);
  }

  private holdsEntity(definition: EntityDefinition, action: EntityAction, permissions: HeldPermissions): boolean {
    const requirement = requirementFor(definition, action, this.options.requirePermissions ?? false);
    return requirement.kind === 'open' || (requirement.kind === 'permission' && permissions.holds(requirement.permission));
  }

  private allows(definition: EntityDefinition, decision: Pick<AccessDecision, 'principal'>, record: StoredRecord, right: RecordRight): boolean {
    const principal = signedIn(decision.principal);
    if (!principal) return false;
    const owner = definition.permissions?.owner;
    if (owner !== undefined && record[owner] === principal.id) return true;
    return this.acl.can(principal, definition, record.id, right);
  }
}
