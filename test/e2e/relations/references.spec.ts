import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Audited, Entity, EntityRepository, Field, getRepositoryToken, Permission, Reference } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { asPrincipal, expectNestError, http, principalFromHeader } from '../support/e2e.util.js';

/** Deleting a site needs `sites:delete`; its permits hold it back until they are gone. */
@Entity('ref-sites')
@Permission({ read: null, create: null, update: null, delete: 'sites:delete' })
class Site {
  @Field() name!: string;
}

@Entity({ name: 'ref-permits', softDelete: true })
@Permission({ read: null, create: null, update: null, delete: null })
@Audited()
class Permit {
  @Field() number!: string;
  @Field() @Reference(() => Site) siteId!: string;
}

/** Cascades from its permit, and is soft-deleted with it. */
@Entity({ name: 'ref-inspections', softDelete: true })
@Permission({ read: null, create: null, update: null, delete: 'inspections:delete' })
@Audited()
class Inspection {
  @Field() @Reference(() => Permit, { onDelete: 'cascade' }) permitId!: string;
  @Field() inspector!: string;
}

/** Loses its permit when the permit goes. */
@Entity('ref-notes')
@Permission({ read: null, create: null, update: null, delete: null })
class Note {
  @Field() text!: string;
  @Field({ required: false }) @Reference(() => Permit, { onDelete: 'setNull' }) permitId?: string;
}

/** A tree: deleting a category deletes what hangs below it. */
@Entity('ref-categories')
@Permission({ read: null, create: null, update: null, delete: null })
class Category {
  @Field() name!: string;
  @Field({ required: false }) @Reference(() => Category, { onDelete: 'cascade' }) parentId?: string;
  @Field({ required: false }) @Reference(() => Category, { onDelete: 'cascade' }) aliasOf?: string;
}

/** Only holders of `vaults:read` read a vault, and so list what refers to it. */
@Entity('ref-vaults')
@Permission({ read: 'vaults:read', create: null, update: null, delete: null })
class Vault {
  @Field() label!: string;
}

/** Everyone reads items; each is owned, and only its owner may read it. */
@Entity('ref-items')
@Permission({ read: 'items:read', create: null, update: null, delete: null, owner: 'owner' })
class Item {
  @Field() @Reference(() => Vault) vaultId!: string;
  @Field({ required: false }) owner?: string;
}

const OFFICER = asPrincipal({ id: 'officer', permissions: ['sites:delete'] });
const INSPECTOR = asPrincipal({ id: 'inspector', permissions: ['inspections:delete'] });

describe.each(PLATFORMS)('@Reference on %s', (platform) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ entities: [Site, Permit, Inspection, Note, Category, Vault, Item], platform, module: { getPrincipal: principalFromHeader } });
  });
  afterAll(() => t.close());

  const create = async (path: string, body: object) => (await http(t).post(path).send(body).expect(201)).body as { id: string; version: number };
  const listOf = async (path: string, as: Record<string, string> = {}) =>
    ((await http(t).get(path).set(as).expect(200)).body.items as Array<{ id: string }>).map((item) => item.id);

  it('refuses a write naming a record that does not exist with 409, storing nothing', async () => {
    const missing = '01J0000000000000000000MISS';
    const refused = await http(t).post('/ref-permits').send({ number: 'P-0', siteId: missing });
    expect(expectNestError(refused, 409)).toBe(`ref-permits: siteId refers to no ref-sites record "${missing}"`);
    const site = await create('/ref-sites', { name: 'North' });
    const batch = await http(t)
      .post('/ref-permits/batch')
      .send([
        { number: 'P-1', siteId: site.id },
        { number: 'P-2', siteId: missing },
      ]);
    expectNestError(batch, 409);
    expect(await listOf(`/ref-permits?siteId=${site.id}`)).toEqual([]);
  });

  it('checks a changed reference, and lets other changes pass without looking again', async () => {
    const site = await create('/ref-sites', { name: 'East' });
    const permit = await create('/ref-permits', { number: 'P-10', siteId: site.id });
    expectNestError(await http(t).patch(`/ref-permits/${permit.id}`).send({ siteId: 'nowhere' }), 409);
    expectNestError(await http(t).put(`/ref-permits/${permit.id}`).send({ number: 'P-10', siteId: 'nowhere' }), 409);
    await http(t).patch(`/ref-permits/${permit.id}`).send({ number: 'P-10b' }).expect(200);
    const other = await create('/ref-sites', { name: 'West' });
    const moved = await http(t).patch(`/ref-permits/${permit.id}`).send({ siteId: other.id }).expect(200);
    expect(moved.body).toEqual(expect.objectContaining({ siteId: other.id, version: 3 }));
  });

  it('restricts a delete while records refer to it (the default), whoever asks', async () => {
    const site = await create('/ref-sites', { name: 'South' });
    const permit = await create('/ref-permits', { number: 'P-20', siteId: site.id });
    const refused = await http(t).delete(`/ref-sites/${site.id}`).set(OFFICER);
    expect(expectNestError(refused, 409)).toBe(
      `ref-sites: record ${site.id} is referred to by 1 ref-permits record(s) through siteId, whose @Reference restricts its delete`,
    );
    await http(t).get(`/ref-sites/${site.id}`).expect(200);
    // A soft-deleted permit no longer refers: the site may go, and the permit cannot come back without it.
    await http(t).delete(`/ref-permits/${permit.id}`).expect(204);
    await http(t).delete(`/ref-sites/${site.id}`).set(OFFICER).expect(204);
    const restore = await http(t).post(`/ref-permits/${permit.id}/restore`).send({});
    expect(expectNestError(restore, 409)).toBe(`ref-permits: siteId refers to no ref-sites record "${site.id}"`);
  });

  it('cascades and clears in the delete’s transaction, each change an audited event of the deleting actor', async () => {
    const site = await create('/ref-sites', { name: 'Harbour' });
    const permit = await create('/ref-permits', { number: 'P-30', siteId: site.id });
    const inspections = [
      await create('/ref-inspections', { permitId: permit.id, inspector: 'A' }),
      await create('/ref-inspections', { permitId: permit.id, inspector: 'B' }),
    ];
    const note = await create('/ref-notes', { text: 'see permit', permitId: permit.id });

    // Deleting inspections needs a permission the caller lacks: the rule is the entity's, not the caller's.
    await http(t)
      .delete(`/ref-permits/${permit.id}`)
      .set(asPrincipal({ id: 'clerk', permissions: [] }))
      .expect(204);

    for (const inspection of inspections) await http(t).get(`/ref-inspections/${inspection.id}`).expect(404);
    // Soft-deleted, as deleting an inspection does on its entity.
    const deleted = await listOf(`/ref-inspections?deleted=only&permitId=${permit.id}`, INSPECTOR);
    expect(deleted.sort()).toEqual(inspections.map((inspection) => inspection.id).sort());
    const cleared = await http(t).get(`/ref-notes/${note.id}`).expect(200);
    expect(cleared.body).toEqual(expect.objectContaining({ text: 'see permit', version: 2 }));
    expect(cleared.body).not.toHaveProperty('permitId');
    const trail = await http(t).get(`/ref-inspections/${inspections[0]!.id}/audit`).expect(200);
    expect(trail.body.items.map((entry: { action: string; actor: string | null }) => [entry.action, entry.actor])).toEqual([
      ['create', null],
      ['delete', 'clerk'],
    ]);
    // Restoring the permit brings neither the inspections nor the note's reference back.
    await http(t).post(`/ref-permits/${permit.id}/restore`).send({}).expect(200);
    await http(t).get(`/ref-inspections/${inspections[1]!.id}`).expect(404);
    expect((await http(t).get(`/ref-notes/${note.id}`).expect(200)).body).not.toHaveProperty('permitId');
  });

  it('cascades down a tree and through a cycle, deleting each record once', async () => {
    const root = await create('/ref-categories', { name: 'root' });
    const child = await create('/ref-categories', { name: 'child', parentId: root.id });
    const grandchild = await create('/ref-categories', { name: 'grandchild', parentId: child.id });
    // The root hangs below its grandchild now: a cycle of three.
    await http(t).patch(`/ref-categories/${root.id}`).send({ parentId: grandchild.id }).expect(200);
    const other = await create('/ref-categories', { name: 'other' });
    await http(t).delete(`/ref-categories/${child.id}`).expect(204);
    expect(await listOf('/ref-categories')).toEqual([other.id]);
  });

  it('documents both 409s in OpenAPI', () => {
    const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
    expect(document.paths['/ref-permits']!.post!.responses['409']).toEqual({
      description: 'A unique index already holds these values, or a @Reference field names a record that does not exist',
    });
    expect(document.paths['/ref-sites/{id}']!.delete!.responses['409']).toEqual({
      description: "Records of an entity whose @Reference to this one has onDelete 'restrict' (the default) still refer to it",
    });
  });

  it('skips a record an earlier cascade of the same delete took already', async () => {
    const top = await create('/ref-categories', { name: 'top' });
    const first = await create('/ref-categories', { name: 'first', parentId: top.id });
    // Below the top and an alias of its sibling: deleting the sibling takes it first.
    await create('/ref-categories', { name: 'second', parentId: top.id, aliasOf: first.id });
    const before = await listOf('/ref-categories');
    await http(t).delete(`/ref-categories/${top.id}`).expect(204);
    expect(await listOf('/ref-categories')).toEqual(before.filter((id) => id < top.id));
  });

  it('lists the records referring to one record at GET /<target>/:id/<entity>, with the list query of the entity', async () => {
    const site = await create('/ref-sites', { name: 'Nested' });
    const permit = await create('/ref-permits', { number: 'P-50', siteId: site.id });
    const other = await create('/ref-permits', { number: 'P-51', siteId: site.id });
    const inspections = [];
    for (const inspector of ['C', 'A', 'B']) inspections.push(await create('/ref-inspections', { permitId: permit.id, inspector }));
    await create('/ref-inspections', { permitId: other.id, inspector: 'A' });

    const sorted = await http(t).get(`/ref-permits/${permit.id}/ref-inspections?sort=inspector&limit=2`).expect(200);
    expect(sorted.body.items.map((item: { inspector: string }) => item.inspector)).toEqual(['A', 'B']);
    const rest = await http(t)
      .get(`/ref-permits/${permit.id}/ref-inspections?sort=inspector&limit=2&cursor=${encodeURIComponent(sorted.body.nextCursor)}`)
      .expect(200);
    expect(rest.body).toEqual({ items: [expect.objectContaining({ inspector: 'C', permitId: permit.id })], nextCursor: null });
    const filtered = await http(t).get(`/ref-permits/${permit.id}/ref-inspections?inspector=B`).expect(200);
    expect(filtered.body.items.map((item: { id: string }) => item.id)).toEqual([inspections[2]!.id]);
    expect(await listOf(`/ref-sites/${site.id}/ref-permits`)).toEqual([permit.id, other.id]);

    expect(expectNestError(await http(t).get(`/ref-permits/${permit.id}/ref-inspections?permitId=${other.id}`), 400)).toContain('permitId is set by the route');
    expectNestError(await http(t).get('/ref-permits/01J0000000000000000000MISS/ref-inspections'), 404);
    // Category refers to itself through two fields: which would the route follow? None is made.
    const root = await create('/ref-categories', { name: 'parent' });
    await create('/ref-categories', { name: 'kid', parentId: root.id });
    await http(t).get(`/ref-categories/${root.id}/ref-categories`).expect(404);
  });

  it('answers the nested route as the target and the listed entity allow the caller', async () => {
    const vault = await create('/ref-vaults', { label: 'V' });
    const alice = asPrincipal({ id: 'alice', permissions: ['vaults:read'] });
    const bob = asPrincipal({ id: 'bob', permissions: ['vaults:read'] });
    const mine = (await http(t).post('/ref-items').set(alice).send({ vaultId: vault.id }).expect(201)).body;
    await http(t).post('/ref-items').set(bob).send({ vaultId: vault.id }).expect(201);

    expectNestError(await http(t).get(`/ref-vaults/${vault.id}/ref-items`), 401);
    expectNestError(
      await http(t)
        .get(`/ref-vaults/${vault.id}/ref-items`)
        .set(asPrincipal({ id: 'eve', permissions: ['items:read'] })),
      403,
    );
    expect(await listOf(`/ref-vaults/${vault.id}/ref-items`, alice)).toEqual([mine.id]);
  });

  it('lets a transaction create a record and one referring to it together', async () => {
    const sites = t.app.get<EntityRepository<Site>>(getRepositoryToken(Site));
    const [site, permit] = await sites.transaction((tx) => {
      const created = tx.create(Site, { name: 'Together' });
      return [created, tx.create(Permit, { number: 'P-40', siteId: created.id })] as const;
    });
    expect(permit.siteId).toBe(site.id);
  });
});

describe('@Reference at start-up', () => {
  @Entity('ref-orphans')
  class Orphan {
    @Field() @Reference(() => Site) siteId!: string;
  }

  it('fails when the entity referred to is not in the app, naming the field', async () => {
    await expect(createTestApp({ entities: [Orphan] })).rejects.toThrow(
      'Orphan.siteId: @Reference(() => Site) refers to a class that is not an entity of this store; list it in EntitiesModule.forFeature()',
    );
  });
});
