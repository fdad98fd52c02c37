import 'reflect-metadata';
import { Entity } from '../../../lib/decorators/entity.decorator.js';
import { Field } from '../../../lib/decorators/field.decorator.js';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { AclService } from '../../../lib/permission/acl.service.js';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { InvalidRecordException } from '../../../lib/storage/invalid-record.exception.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { makeTempDir } from '../../support/temp-dir.util.js';

@Entity('docs')
class AclInputDoc {
  @Field() title!: string;
}

/** Past lmdb's key size once encoded (1978 bytes), and past the 4 KiB where it stopped being refused quietly. */
const HUGE = 'a'.repeat(5000);
const ID = '01JD3Q4ZB6WQ6V4M9KX2T8R7HN';

describe('AclService with subjects, user ids, entity names and ids no grant can have', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let storage: EntityStorage;
  let acl: AclService;

  beforeAll(async () => {
    dir = makeTempDir();
    const env = new LmdbEnvironment(dir.path);
    acl = new AclService(env);
    storage = new EntityStorage(env, {}, [], [acl]);
    storage.register(createEntityDefinition(AclInputDoc));
    await storage.open();
    await acl.grant('alice', 'docs', ID, ['read']);
    await acl.addMember('alice', 'auditors');
  });

  afterAll(async () => {
    await storage?.close();
    dir?.remove();
  });

  it.each<[string, () => Promise<unknown>]>([
    ['a grant to a subject of 5,000 characters', () => acl.grant(HUGE, 'docs', ID, ['read'])],
    ['a grant on an id of 5,000 characters', () => acl.grant('alice', 'docs', HUGE, ['read'])],
    ['a grant on an entity name of 5,000 characters', () => acl.grant('alice', HUGE, ID, ['read'])],
    ['a revoke from a subject of 5,000 characters', () => acl.revoke(HUGE, 'docs', ID)],
    ['a revoke from a group: subject of 5,000 characters', () => acl.revoke(`group:${HUGE}`, 'docs', ID)],
    ['a revoke from a subject with a space', () => acl.revoke('alice smith', 'docs', ID)],
    ['a revoke on an id of 5,000 characters', () => acl.revoke('alice', 'docs', HUGE)],
    ['a revoke on an entity name that is not one', () => acl.revoke('alice', 'no such/entity', ID)],
    ['an addMember of a user id of 5,000 characters', () => acl.addMember(HUGE, 'auditors')],
    ['an addMember of a user id that spells a group', () => acl.addMember('group:auditors', 'admins')],
    ['a removeMember of a user id of 5,000 characters', () => acl.removeMember(HUGE, 'auditors')],
    ['a removeMember from a group of 5,000 characters', () => acl.removeMember('alice', `group:${HUGE}`)],
  ])('refuses %s with InvalidRecordException and changes nothing', async (_what, call) => {
    await expect(call()).rejects.toBeInstanceOf(InvalidRecordException);
    expect(acl.grantsOn('docs', ID)).toEqual([{ subject: 'alice', rights: ['read'] }]);
    expect(acl.groupsOf('alice')).toEqual(['group:auditors']);
  });

  it('answers that a subject, entity name or id no grant can have holds nothing, without throwing', () => {
    const stranger = { id: HUGE };
    expect(acl.can(stranger, 'docs', ID, 'read')).toBe(false);
    expect(acl.rightsOn(stranger, 'docs', ID)).toEqual([]);
    expect(acl.hasGrantsIn(stranger, 'docs')).toBe(false);
    expect(acl.groupsOf(HUGE)).toEqual([]);
    expect(acl.can({ id: 'alice' }, 'docs', HUGE, 'read')).toBe(false);
    expect(acl.can({ id: 'alice' }, HUGE, ID, 'read')).toBe(false);
    expect(acl.hasGrantsIn({ id: 'alice' }, HUGE)).toBe(false);
    expect(acl.grantsOn('docs', HUGE)).toEqual([]);
    expect(acl.grantsOn(HUGE, ID)).toEqual([]);
    expect(acl.can({ id: 'alice' }, 'docs', ID, 'read')).toBe(true);
  });

  it("gives a principal whose id spells group:<name> none of that group's grants", async () => {
    const id = '01JD3Q4ZB6WQ6V4M9KX2T8R7HP';
    await acl.grant('group:auditors', 'docs', id, ['read', 'update']);
    const impostor = { id: 'group:auditors' };
    expect(acl.can(impostor, 'docs', id, 'read')).toBe(false);
    expect(acl.hasGrantsIn(impostor, 'docs')).toBe(false);
    expect(acl.groupsOf('group:auditors')).toEqual([]);
    expect(acl.can({ id: 'alice' }, 'docs', id, 'update')).toBe(true);
  });

  it('still removes a membership that a user id spelling group:<name> got before such ids were refused', async () => {
    const members = storage.environment.database('_acl.members');
    await storage.environment.write(() => members.putSync(['group:legacy', 'auditors'], null));
    await acl.removeMember('group:legacy', 'auditors');
    expect(members.get(['group:legacy', 'auditors'])).toBeUndefined();
  });
});
