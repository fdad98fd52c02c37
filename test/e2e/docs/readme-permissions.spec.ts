import request from 'supertest';
import { AclService, Entity, Field, Permission, type Principal } from '../../../lib/index.js';
import { createTestApp, type TestApp } from '../../support/test-app.util.js';

/** The README's worked permissions example, as written there. */
@Entity('claims')
@Permission({ read: 'claims:read', create: 'claims:file', update: 'claims:review', delete: 'claims:close', owner: 'filedBy' })
class Claim {
  @Field() title!: string;
  @Field({ required: false }) filedBy?: string;
  @Field({ required: false }) @Permission({ read: 'claims:finance', write: 'claims:finance' }) payout?: number;
}

const people: Record<string, Principal> = {
  carol: { id: 'carol', roles: ['claimant'] },
  chris: { id: 'chris', roles: ['claimant'] },
  rita: { id: 'rita', roles: ['reviewer'] },
  fin: { id: 'fin', roles: ['finance'] },
  dana: { id: 'dana' },
  root: { id: 'root', roles: ['admin'] },
};

describe('the README permissions example', () => {
  let t: TestApp;
  const as = (who: string) => ({ 'x-user': who });

  beforeAll(async () => {
    t = await createTestApp({
      entities: [Claim],
      module: {
        getPrincipal: (req: { headers: Record<string, string | undefined> }) => people[req.headers['x-user'] ?? ''],
        roles: {
          claimant: ['claims:file'],
          reviewer: ['claims:read', 'claims:review'],
          finance: ['claims:read', 'claims:finance'],
          admin: ['*'],
        },
      },
    });
  });
  afterAll(() => t.close());

  it('lets claimants file and see only their own claims, stamped with their id', async () => {
    await request(t.server()).post('/claims').set(as('carol')).send({ title: 'forged', filedBy: 'someone-else' }).expect(400);
    const mine = await request(t.server()).post('/claims').set(as('carol')).send({ title: 'water damage' }).expect(201);
    expect(mine.body.filedBy).toBe('carol');
    await request(t.server()).post('/claims').set(as('chris')).send({ title: 'hail' }).expect(201);
    const list = await request(t.server()).get('/claims').set(as('carol')).expect(200);
    expect(list.body.items.map((claim: { title: string }) => claim.title)).toEqual(['water damage']);
    await request(t.server()).get(`/claims/${mine.body.id}`).set(as('chris')).expect(404);
  });

  it('hides the payout from reviewers, and lets no one without the update permission change a claim', async () => {
    const claim = await request(t.server()).post('/claims').set(as('carol')).send({ title: 'roof' }).expect(201);
    await request(t.server()).patch(`/claims/${claim.body.id}`).set(as('rita')).send({ payout: 500 }).expect(403);
    await request(t.server()).patch(`/claims/${claim.body.id}`).set(as('fin')).send({ payout: 500 }).expect(403);
    const adminless = await request(t.server()).get(`/claims/${claim.body.id}`).set(as('rita')).expect(200);
    expect(adminless.body).not.toHaveProperty('payout');
  });

  it('lets only its filer or a holder of claims:close delete a claim, and confirms no id to anyone else', async () => {
    const claim = await request(t.server()).post('/claims').set(as('carol')).send({ title: 'theft' }).expect(201);
    await request(t.server()).delete(`/claims/${claim.body.id}`).expect(401);
    await request(t.server()).delete(`/claims/${claim.body.id}`).set(as('rita')).expect(403);
    await request(t.server()).delete(`/claims/${claim.body.id}`).set(as('chris')).expect(404);
    await request(t.server()).get(`/claims/${claim.body.id}`).set(as('rita')).expect(200);
    await request(t.server()).delete(`/claims/${claim.body.id}`).set(as('carol')).expect(204);
    const closed = await request(t.server()).post('/claims').set(as('chris')).send({ title: 'storm' }).expect(201);
    await request(t.server()).delete(`/claims/${closed.body.id}`).set(as('root')).expect(204);
  });

  it('lets a group read one claim through a grant until it is revoked', async () => {
    const claim = await request(t.server()).post('/claims').set(as('carol')).send({ title: 'flood' }).expect(201);
    const other = await request(t.server()).post('/claims').set(as('carol')).send({ title: 'fire' }).expect(201);
    const acl = t.app.get(AclService);
    await acl.addMember('dana', 'auditors');
    await acl.grant('group:auditors', 'claims', claim.body.id, ['read']);
    const seen = await request(t.server()).get(`/claims/${claim.body.id}`).set(as('dana')).expect(200);
    expect(seen.body.title).toBe('flood');
    expect(seen.body).not.toHaveProperty('payout');
    await request(t.server()).get(`/claims/${other.body.id}`).set(as('dana')).expect(404);
    await acl.revoke('group:auditors', 'claims', claim.body.id);
    await request(t.server()).get(`/claims/${claim.body.id}`).set(as('dana')).expect(404);
  });
});
