import { Entity, EntityRepository, Field, getRepositoryToken, Permission, type Principal } from '../../../lib/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

@Entity('filed-claims')
@Permission({ read: 'claims:read', create: 'claims:file', update: 'claims:review', delete: 'claims:close', owner: 'filedBy' })
class Claim {
  @Field() title!: string;
  @Field({ required: false }) filedBy?: string;
}

const claimant: Principal = { id: 'carol', permissions: ['claims:file'] };

/**
 * README: `idempotencyKey` makes a create (`create`, `createMany`, `tx.create`) safe to retry.
 * `repo.create` fingerprints the data after the principal's owner stamp, `tx.create` the data
 * as given, so the same create retried through the other API is taken for different data.
 */
describe('idempotency key shared by repo.create and tx.create under a principal', () => {
  let t: TestApp;
  let claims: EntityRepository<Claim>;
  beforeAll(async () => {
    t = await createTestApp({ entities: [Claim] });
    claims = t.app.get(getRepositoryToken(Claim));
  });
  afterAll(async () => t?.close());

  it('a retry through tx.create returns the first create', async () => {
    const first = await claims.create({ title: 'hail' }, { principal: claimant, idempotencyKey: 'claim-1' });
    const retried = await claims.transaction((tx) => tx.create(Claim, { title: 'hail' }, { idempotencyKey: 'claim-1' }), { principal: claimant });
    expect(retried.id).toBe(first.id);
  });

  it('a retry through repo.create returns the first tx.create', async () => {
    const first = await claims.transaction((tx) => tx.create(Claim, { title: 'flood' }, { idempotencyKey: 'claim-2' }), { principal: claimant });
    const retried = await claims.create({ title: 'flood' }, { principal: claimant, idempotencyKey: 'claim-2' });
    expect(retried.id).toBe(first.id);
  });
});
