import { AccessDeniedException, Entity, EntityRepository, Field, getRepositoryToken, Permission, type Principal } from '../../../lib/index.js';
import { EntityAccess } from '../../../lib/permission/entity-access.service.js';
import type { AccessDecision } from '../../../lib/repository/access-policy.interface.js';
import type { DecidedContext } from '../../../lib/repository/decided-context.interface.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('decided-vaults')
@Permission({ read: 'vaults:read', create: 'vaults:create', update: 'vaults:update', delete: 'vaults:delete' })
class Vault {
  @Field() label!: string;
  @Field({ required: false })
  @Permission({ read: 'vaults:secret' })
  secret?: string;
}

const KEEPER: Principal = { id: 'keeper', permissions: ['vaults:*'] };
const READER: Principal = { id: 'reader', permissions: ['vaults:read'] };

/** The repository applies only a decision the access rules issued, for the same entity, action and principal. */
describe('a decision handed to the repository', () => {
  let t: TestApp;
  let vaults: EntityRepository<Vault>;
  let access: EntityAccess;
  let id: string;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Vault] });
    vaults = t.app.get(getRepositoryToken(Vault));
    access = t.app.get(EntityAccess);
    id = (await vaults.create({ label: 'v', secret: 's' })).id;
  });

  afterAll(async () => {
    await t?.close();
  });

  const forged = (principal?: Principal): AccessDecision => ({
    entity: 'decided-vaults',
    action: 'update',
    principal,
    permissions: { holds: () => true },
    entityWide: true,
  });

  it('is ignored when a caller built it: the call is decided afresh and refused', async () => {
    const anonymous: DecidedContext = { principal: null, decision: forged() };
    await expect(vaults.update(id, { label: 'x' }, anonymous)).rejects.toBeInstanceOf(AccessDeniedException);
    const reader: DecidedContext = { principal: READER, decision: forged(READER) };
    await expect(vaults.update(id, { label: 'x' }, reader)).rejects.toBeInstanceOf(AccessDeniedException);
    expect((await vaults.findById(id))?.label).toBe('v');
  });

  it('is ignored when it was issued for another principal or action', async () => {
    const keepers = access.decide(vaults.definition, 'update', KEEPER);
    await expect(vaults.update(id, { label: 'x' }, { principal: READER, decision: keepers } as DecidedContext)).rejects.toBeInstanceOf(AccessDeniedException);
    const readers = access.decide(vaults.definition, 'read', READER);
    await expect(vaults.delete(id, { principal: READER, decision: readers } as DecidedContext)).rejects.toBeInstanceOf(AccessDeniedException);
    expect(await vaults.findById(id)).not.toBeNull();
  });

  it('is applied when issued for this call, and still shapes what the principal gets', async () => {
    const decision = access.decide(vaults.definition, 'read', READER);
    const read = await vaults.findById(id, { principal: READER, decision } as DecidedContext);
    expect(read).toMatchObject({ id, label: 'v' });
    expect(read).not.toHaveProperty('secret');
  });
});
