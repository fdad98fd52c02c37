import 'reflect-metadata';
import fc from 'fast-check';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { AclService } from '../../../lib/permission/acl.service.js';
import { RECORD_RIGHTS, type RecordRight } from '../../../lib/permission/acl-subjects.util.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('doc')
class AclDoc {
  @Field() title!: string;
}

// Names that are prefixes of one another, so a range read that stops at the wrong key shows.
const USERS = ['al', 'alice', 'bob'] as const;
const GROUPS = ['x', 'xy', 'ops'] as const;
const ENTITIES = ['doc', 'docs'] as const;
const IDS = ['1', '10', '2'] as const;

type Command =
  | { kind: 'grant'; subject: string; entity: string; id: string; rights: RecordRight[] }
  | { kind: 'revoke'; subject: string; entity: string; id: string; rights?: RecordRight[] }
  | { kind: 'addMember'; user: string; group: string }
  | { kind: 'removeMember'; user: string; group: string };

const subjectArb = fc.oneof(
  fc.constantFrom(...USERS),
  fc.constantFrom(...GROUPS).map((group) => `group:${group}`),
);
const recordArb = fc.record({ entity: fc.constantFrom(...ENTITIES), id: fc.constantFrom(...IDS) });
const rightsArb = fc.subarray([...RECORD_RIGHTS], { minLength: 1 }).chain((rights) => fc.shuffledSubarray(rights, { minLength: rights.length }));

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc
    .record({ kind: fc.constant('grant' as const), subject: subjectArb, rights: rightsArb })
    .chain((command) => recordArb.map((record) => ({ ...command, ...record }))),
  fc
    .record({ kind: fc.constant('revoke' as const), subject: subjectArb, rights: fc.option(rightsArb, { nil: undefined }) })
    .chain((command) => recordArb.map((record) => ({ ...command, ...record }))),
  fc.record({ kind: fc.constant('addMember' as const), user: fc.constantFrom(...USERS), group: fc.constantFrom(...GROUPS) }),
  fc.record({ kind: fc.constant('removeMember' as const), user: fc.constantFrom(...USERS), group: fc.constantFrom(...GROUPS) }),
);

/** What the ACL should answer, kept as plain maps. */
class AclModel {
  /** `subject|entity|id` -> rights. */
  readonly grants = new Map<string, Set<RecordRight>>();
  /** user -> group names. */
  readonly members = new Map<string, Set<string>>();

  grant(subject: string, entity: string, id: string, rights: readonly RecordRight[]): RecordRight[] {
    const key = `${subject}|${entity}|${id}`;
    const held = this.grants.get(key) ?? new Set<RecordRight>();
    for (const right of rights) held.add(right);
    this.grants.set(key, held);
    return [...held].sort();
  }

  revoke(subject: string, entity: string, id: string, rights: readonly RecordRight[] = RECORD_RIGHTS): boolean {
    const key = `${subject}|${entity}|${id}`;
    const held = this.grants.get(key);
    if (!held) return false;
    for (const right of rights) held.delete(right);
    if (held.size === 0) this.grants.delete(key);
    return true;
  }

  addMember(user: string, group: string): void {
    const groups = this.members.get(user) ?? new Set<string>();
    groups.add(group);
    this.members.set(user, groups);
  }

  removeMember(user: string, group: string): void {
    this.members.get(user)?.delete(group);
  }

  private subjectsOf(user: string): string[] {
    return [user, ...[...(this.members.get(user) ?? [])].map((group) => `group:${group}`)];
  }

  can(user: string, entity: string, id: string, right: RecordRight): boolean {
    return this.subjectsOf(user).some((subject) => this.grants.get(`${subject}|${entity}|${id}`)?.has(right) ?? false);
  }

  hasGrantsIn(user: string, entity: string): boolean {
    const subjects = new Set(this.subjectsOf(user));
    return [...this.grants.keys()].some((key) => {
      const [subject, grantEntity] = key.split('|');
      return subjects.has(subject!) && grantEntity === entity;
    });
  }

  grantsOn(entity: string, id: string): Array<{ subject: string; rights: RecordRight[] }> {
    return [...this.grants.entries()]
      .filter(([key]) => key.endsWith(`|${entity}|${id}`) && key.split('|').length === 3)
      .map(([key, rights]) => ({ subject: key.split('|')[0]!, rights: [...rights].sort() }))
      .sort((left, right) => (left.subject < right.subject ? -1 : 1));
  }
}

describe('AclService against an in-memory model', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let storage: EntityStorage;
  let acl: AclService;
  /** A second service on the same environment, as another process would hold: it must follow every change too. */
  let peer: AclService;
  let run = 0;

  beforeAll(async () => {
    dir = makeTempDir();
    const env = new LmdbEnvironment(dir.path);
    acl = new AclService(env);
    storage = new EntityStorage(env, {}, [], [acl]);
    storage.register(createEntityDefinition(AclDoc));
    await storage.open();
    peer = new AclService(env);
    peer.open(storage);
  });

  afterAll(async () => {
    await storage?.close();
    dir?.remove();
  });

  it('answers can() and hasGrantsIn() like the model after every grant, revoke, addMember and removeMember', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: 30, size: 'max' }), async (commands) => {
        // Every run has its own names, so runs sharing the store never see each other's grants.
        run += 1;
        const ns = (name: string) => `r${run}-${name}`;
        const nsSubject = (subject: string) => (subject.startsWith('group:') ? `group:${ns(subject.slice(6))}` : ns(subject));
        const model = new AclModel();

        for (const command of commands) {
          switch (command.kind) {
            case 'grant': {
              const subject = nsSubject(command.subject);
              const result = await acl.grant(subject, command.entity, ns(command.id), command.rights);
              expect(result).toEqual({ subject, rights: model.grant(subject, command.entity, ns(command.id), command.rights) });
              break;
            }
            case 'revoke': {
              const subject = nsSubject(command.subject);
              const had = await acl.revoke(subject, command.entity, ns(command.id), command.rights);
              expect(had).toBe(model.revoke(subject, command.entity, ns(command.id), command.rights));
              break;
            }
            case 'addMember':
              await acl.addMember(ns(command.user), ns(command.group));
              model.addMember(ns(command.user), ns(command.group));
              break;
            case 'removeMember':
              await acl.removeMember(ns(command.user), `group:${ns(command.group)}`);
              model.removeMember(ns(command.user), ns(command.group));
              break;
          }

          const mismatches: string[] = [];
          for (const [name, service] of [
            ['acl', acl],
            ['peer', peer],
          ] as const) {
            for (const user of USERS) {
              const principal = { id: ns(user), permissions: ['*'] };
              for (const entity of ENTITIES) {
                const hasGrants = service.hasGrantsIn(principal, entity);
                if (hasGrants !== model.hasGrantsIn(ns(user), entity)) mismatches.push(`${name}.hasGrantsIn(${user}, ${entity}) = ${hasGrants}`);
                for (const id of IDS) {
                  for (const right of RECORD_RIGHTS) {
                    const can = service.can(principal, entity, ns(id), right);
                    if (can !== model.can(ns(user), entity, ns(id), right)) mismatches.push(`${name}.can(${user}, ${entity}, ${id}, ${right}) = ${can}`);
                  }
                }
              }
            }
          }
          for (const entity of ENTITIES) {
            for (const id of IDS) {
              const stored = acl
                .grantsOn(entity, ns(id))
                .map((grant) => ({ subject: grant.subject, rights: [...grant.rights].sort() }))
                .sort((left, right) => (left.subject < right.subject ? -1 : 1));
              const expected = model.grantsOn(entity, ns(id));
              if (JSON.stringify(stored) !== JSON.stringify(expected))
                mismatches.push(`grantsOn(${entity}, ${id}) = ${JSON.stringify(stored)}, model ${JSON.stringify(expected)}`);
            }
          }
          if (mismatches.length > 0) expect({ after: command, mismatches }).toEqual({ after: command, mismatches: [] });
        }
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  it('refuses an invalid grant or membership and changes nothing', async () => {
    const before = acl.grantsOn('doc', 'invalid-1');
    await expect(acl.grant('alice', 'doc', 'invalid-1', [])).rejects.toThrow();
    await expect(acl.grant('alice', 'doc', 'invalid-1', ['write' as RecordRight])).rejects.toThrow();
    await expect(acl.grant('has space', 'doc', 'invalid-1', ['read'])).rejects.toThrow();
    await expect(acl.grant('group:', 'doc', 'invalid-1', ['read'])).rejects.toThrow();
    await expect(acl.addMember('', 'team')).rejects.toThrow();
    await expect(acl.addMember('alice', 'group:')).rejects.toThrow();
    expect(acl.grantsOn('doc', 'invalid-1')).toEqual(before);
    expect(acl.groupsOf('alice')).toEqual([]);
  });

  it('answers false for an anonymous principal', () => {
    expect(acl.can(undefined, 'doc', '1', 'read')).toBe(false);
  });
});
