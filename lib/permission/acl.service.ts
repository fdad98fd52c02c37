import type { Database } from 'lmdb';
import { ulidFactory } from '../storage/ulid.util.js';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { STORAGE_NAME } from '../common/metadata.constants.js';
import { afterPrefix, type IndexKey } from '../storage/index-key.util.js';
import type { ChangeWriter, ProjectionCheck } from '../storage/entity-projection.interface.js';
import type { EntityEvent } from '../storage/entity-event.interface.js';
import type { EventLog } from '../storage/event-log.store.js';
import { checkGrantListings, dropRecordGrants, removesForGood, type GrantTables } from './record-grants.util.js';
import type { LmdbEnvironment } from '../storage/lmdb-environment.store.js';
import type { CompanionChange } from '../storage/store-change.interface.js';
import type { AclChange } from './acl-change.interface.js';
import type { Principal } from '../common/principal.interface.js';
import {
  checkRecord,
  checkRights,
  checkSubject,
  checkUserId,
  GROUP_PREFIX,
  groupName,
  isRecord,
  isUserId,
  RECORD_RIGHTS,
  type RecordRight,
} from './acl-subjects.util.js';

const VERSION_KEY = 'aclVersion';
const MAX_CACHED_DECISIONS = 10_000;
const nextVersion = ulidFactory();

/** One grant of rights on a record to a user id or a `group:<name>`. */
export interface RecordGrant {
  subject: string;
  rights: RecordRight[];
}

/**
 * Record-level access control: grants of rights on records to users and groups, and group
 * memberships, stored in the same LMDB environment as the data. Decisions are cached per
 * process; every change bumps a counter stored in LMDB in the same transaction, and each
 * lookup compares it first, so a grant or revoke in any process takes effect on the very
 * next request everywhere. Inject it as `AclService`.
 *
 * Subjects, entity names and ids are checked before they reach lmdb, whose keys they must
 * fit (a longer one was a RangeError, so a 500, issue 14): a change with one that cannot
 * hold a grant fails with `InvalidRecordException` (400); a lookup answers that it holds none.
 * A principal whose id spells `group:<name>` is no user, and holds not even that group's grants.
 */
export class AclService {
  private cachedVersion = '';
  private readonly groupsCache = new Map<string, string[]>();
  private readonly rightsCache = new Map<string, RecordRight[]>();
  private readonly anyGrantCache = new Map<string, boolean>();
  /** @internal */
  readonly databaseCount = 4;

  /** @internal */
  readonly changePrefix = 'acl';
  private writer?: ChangeWriter;

  /** @internal */
  constructor(private readonly environment: LmdbEnvironment) {}

  /** @internal */
  open(writer: ChangeWriter): void {
    for (const name of ['_acl.grants', '_acl.bySubject', '_acl.members', '_acl.meta']) this.environment.database(name);
    this.writer = writer;
  }

  /** @internal */
  holdsState(): boolean {
    return this.grants.getKeysCount({ limit: 1 }) > 0 || this.members.getKeysCount({ limit: 1 }) > 0;
  }

  /** Gives `subject` (a user id or `group:<name>`) `rights` on one record, adding to what it had. */
  async grant(subject: string, entity: string, id: string, rights: readonly RecordRight[]): Promise<RecordGrant> {
    const checkedRights = checkRights(rights);
    checkSubject(subject);
    checkRecord(entity, id);
    return this.change((version) => {
      const merged = [...new Set([...(this.grants.get([entity, id, subject]) ?? []), ...checkedRights])].sort() as RecordRight[];
      return { change: { kind: 'acl.grant', entity, id, subject, rights: merged, version }, result: { subject, rights: merged } };
    });
  }

  /** Takes `rights` (default: all) on one record away from `subject`. Returns whether it had any. */
  async revoke(subject: string, entity: string, id: string, rights: readonly RecordRight[] = RECORD_RIGHTS): Promise<boolean> {
    const removed = checkRights(rights);
    checkSubject(subject);
    checkRecord(entity, id);
    return this.change((version) => {
      const current = this.grants.get([entity, id, subject]);
      const left = (current ?? []).filter((right) => !removed.includes(right));
      return { change: { kind: 'acl.grant', entity, id, subject, rights: left, version }, result: current !== undefined };
    });
  }

  async addMember(userId: string, group: string): Promise<void> {
    checkUserId(userId);
    const name = groupName(group);
    await this.change((version) => ({ change: { kind: 'acl.member', userId, group: name, member: true, version }, result: undefined }));
  }

  async removeMember(userId: string, group: string): Promise<void> {
    // Only the subject's form: memberships stored before user ids spelling `group:` were refused must stay removable.
    checkSubject(userId);
    const name = groupName(group);
    await this.change((version) => ({ change: { kind: 'acl.member', userId, group: name, member: false, version }, result: undefined }));
  }

  /**
   * Applies a grant or membership change, and the ACL version it moves to.
   * @internal
   */
  applyChange(change: CompanionChange): void {
    const acl = change as AclChange;
    this.meta.putSync(VERSION_KEY, acl.version);
    if (acl.kind === 'acl.member') {
      if (acl.member) this.members.putSync([acl.userId, acl.group], null);
      else this.members.removeSync([acl.userId, acl.group]);
    } else if (acl.rights.length > 0) {
      this.grants.putSync([acl.entity, acl.id, acl.subject], acl.rights);
      this.bySubject.putSync([acl.subject, acl.entity, acl.id], null);
    } else {
      this.grants.removeSync([acl.entity, acl.id, acl.subject]);
      this.bySubject.removeSync([acl.subject, acl.entity, acl.id]);
    }
  }

  /** @internal Grants hold on any entity's records. */
  follows(): boolean {
    return true;
  }

  /**
   * Drops the grants on a record its event removed for good, moving the ACL version to the
   * event's id: the same on every instance that applies it.
   * @internal
   */
  apply(definition: EntityDefinition, event: EntityEvent): void {
    if (removesForGood(definition, event) && dropRecordGrants(this.tables(), event)) this.meta.putSync(VERSION_KEY, event.eventId);
  }

  /** @internal */
  verify(_log: EventLog, onEntry: () => void): ProjectionCheck {
    return checkGrantListings(this.tables(), onEntry);
  }

  /** The grants on one record; none for an entity name or id no record can have. */
  grantsOn(entity: string, id: string): RecordGrant[] {
    if (!isRecord(entity, id)) return [];
    return [...this.grants.getRange({ start: [entity, id], end: afterPrefix([entity, id]) })].map(({ key, value }) => ({
      subject: (key as string[])[2]!,
      rights: value,
    }));
  }

  /** The groups a user belongs to, as `group:<name>` subjects. */
  groupsOf(userId: string): string[] {
    this.refresh();
    let groups = this.groupsCache.get(userId);
    if (!groups) {
      // Checked on a cache miss only: a value that fails is never cached, and lists ask once per record.
      if (!isUserId(userId)) return [];
      groups = [...this.members.getKeys({ start: [userId], end: afterPrefix([userId]) })].map((key) => GROUP_PREFIX + (key as string[])[1]);
      this.groupsCache.set(userId, groups);
    }
    return groups;
  }

  /**
   * The rights a principal holds on a record through grants to it or to its groups.
   * @internal
   */
  rightsOn(principal: Principal, entity: string, id: string): RecordRight[] {
    this.refresh();
    const cacheKey = `${principal.id}\u0000${entity}\u0000${id}`;
    let rights = this.rightsCache.get(cacheKey);
    if (!rights) {
      if (!isUserId(principal.id) || !isRecord(entity, id)) return [];
      const found = new Set<RecordRight>();
      for (const subject of [principal.id, ...this.groupsOf(principal.id)]) {
        for (const right of this.grants.get([entity, id, subject]) ?? []) found.add(right);
      }
      rights = [...found];
      if (this.rightsCache.size >= MAX_CACHED_DECISIONS) this.rightsCache.clear();
      this.rightsCache.set(cacheKey, rights);
    }
    return rights;
  }

  /**
   * Moves with every grant, revoke or membership change, in any process. A random token,
   * not a count, so a copy of the store never shows the same version for other grants.
   * @internal
   */
  version(): string {
    return this.meta.get(VERSION_KEY) ?? '-';
  }

  /**
   * Whether the principal, or one of its groups, holds any grant on any record of `entity`.
   * @internal
   */
  hasGrantsIn(principal: Principal, entity: string): boolean {
    this.refresh();
    const cacheKey = `${principal.id}\u0000${entity}`;
    let found = this.anyGrantCache.get(cacheKey);
    if (found === undefined) {
      if (!isUserId(principal.id) || !STORAGE_NAME.test(entity)) return false;
      found = [principal.id, ...this.groupsOf(principal.id)].some(
        (subject) => this.bySubject.getKeysCount({ start: [subject, entity], end: afterPrefix([subject, entity]), limit: 1 }) > 0,
      );
      if (this.anyGrantCache.size >= MAX_CACHED_DECISIONS) this.anyGrantCache.clear();
      this.anyGrantCache.set(cacheKey, found);
    }
    return found;
  }

  /**
   * Whether `principal` holds `right` on a record through a grant. Entity-level
   * permissions and the owner rule are checked by the caller (see `EntityAccess`).
   */
  can(principal: Principal | null | undefined, entity: string | EntityDefinition, id: string, right: RecordRight): boolean {
    if (!principal) return false;
    return this.rightsOn(principal, typeof entity === 'string' ? entity : entity.name, id).includes(right);
  }

  /**
   * Decides one change in a write transaction, with the version it moves the ACL to, and
   * applies it; forgets cached decisions.
   */
  private async change<R>(decide: (version: string) => { change: AclChange; result: R }): Promise<R> {
    if (!this.writer) throw new Error('the entity store is not open yet');
    const result = await this.writer.write((tx) => {
      const decided = decide(nextVersion());
      tx.apply(decided.change);
      return decided.result;
    });
    this.forget();
    return result;
  }

  /** Drops cached decisions when any process changed grants or memberships since they were made. */
  private refresh(): void {
    const version = this.version();
    if (version !== this.cachedVersion) {
      this.forget();
      this.cachedVersion = version;
    }
  }

  private forget(): void {
    this.groupsCache.clear();
    this.rightsCache.clear();
    this.anyGrantCache.clear();
    this.cachedVersion = '';
  }

  private tables(): GrantTables {
    return { grants: this.grants, bySubject: this.bySubject };
  }

  private get grants(): Database<RecordRight[], IndexKey> {
    return this.environment.database('_acl.grants');
  }

  private get bySubject(): Database<null, IndexKey> {
    return this.environment.database('_acl.bySubject');
  }

  private get members(): Database<null, IndexKey> {
    return this.environment.database('_acl.members');
  }

  private get meta(): Database<string, string> {
    return this.environment.database('_acl.meta');
  }
}
