import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  Cached,
  Entity,
  type EntityRecord,
  EntityRepository,
  Field,
  getRepositoryToken,
  InvalidQueryException,
  Permission,
  Reference,
} from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { asPrincipal, expectNestError, http, principalFromHeader } from '../support/e2e.util.js';

/** Read by everyone, but `secret` by no one and `phone` only with `owners:phone`. */
@Entity('inc-owners')
@Permission({ read: null, create: null, update: null, delete: null })
class Owner {
  @Field() name!: string;
  @Field({ hidden: true }) secret!: string;
  @Field({ required: false }) @Permission({ read: 'owners:phone' }) phone?: string;
  @Field({ required: false }) age?: number;
}

/** `lockers:read` reads every locker; without it, a principal reads only the lockers it holds. */
@Entity('inc-lockers')
@Permission({ read: 'lockers:read', create: null, update: null, delete: null, owner: 'holder' })
class Locker {
  @Field() code!: string;
  @Field({ required: false }) holder?: string;
}

/** Only holders of `vaults:read` read vaults at all. */
@Entity('inc-vaults')
@Permission({ read: 'vaults:read', create: null, update: null, delete: null })
class Vault {
  @Field() label!: string;
}

/** Closed to anonymous callers and to those without its permissions, for every action. */
@Entity({ name: 'inc-archives', softDelete: true })
@Permission({ read: 'vaults:read', create: 'vaults:write', update: 'vaults:write', delete: 'vaults:write' })
class Archive {
  @Field() label!: string;
  @Field({ required: false }) @Reference(() => Owner, { onDelete: 'setNull' }) ownerId?: string;
}

@Entity({ name: 'inc-cars', softDelete: true })
@Permission({ read: null, create: null, update: null, delete: null })
@Cached()
class Car {
  @Field() plate!: string;
  @Field() @Reference(() => Owner) ownerId!: string;
  @Field({ required: false }) @Reference(() => Locker, { onDelete: 'setNull' }) lockerId?: string;
  @Field({ required: false }) @Reference(() => Vault, { as: 'safe', onDelete: 'setNull' }) vault?: string;
  @Field({ required: false }) @Permission({ read: 'cars:broker' }) @Reference(() => Owner, { onDelete: 'setNull' }) brokerId?: string;
  @Field({ required: false, hidden: true }) @Reference(() => Owner, { as: 'previous', onDelete: 'setNull' }) previousOwnerId?: string;
}

const ALICE = asPrincipal({ id: 'alice', permissions: ['lockers:read', 'vaults:read', 'owners:phone', 'cars:broker'] });
const BOB = asPrincipal({ id: 'bob', permissions: [] });
const CAROL = asPrincipal({ id: 'carol', permissions: [] });

describe.each(PLATFORMS)('reading through references on %s', (platform) => {
  let t: TestApp;
  let owner: { id: string };
  let broker: { id: string };
  let locker: { id: string };
  let vault: { id: string };
  let car: { id: string; version: number };
  let bare: { id: string };

  beforeAll(async () => {
    t = await createTestApp({ entities: [Owner, Locker, Vault, Car, Archive], platform, module: { getPrincipal: principalFromHeader } });
    // Through the repositories: hidden fields take no value over HTTP.
    const repository = <T extends object>(entity: new () => T) => t.app.get<EntityRepository<T>>(getRepositoryToken(entity));
    owner = await repository(Owner).create({ name: 'Ada', secret: 's3cret', phone: '555-0100', age: 36 });
    broker = await repository(Owner).create({ name: 'Bea', secret: 'b', phone: '555-0199', age: 29 });
    locker = await repository(Locker).create({ code: 'L-1', holder: 'bob' });
    vault = await repository(Vault).create({ label: 'V-1' });
    car = await repository(Car).create({
      plate: 'AB-123',
      ownerId: owner.id,
      lockerId: locker.id,
      vault: vault.id,
      brokerId: broker.id,
      previousOwnerId: broker.id,
    });
    bare = await repository(Car).create({ plate: 'ZZ-999', ownerId: owner.id });
  });
  afterAll(() => t.close());

  it('adds each record referred to under its name, as the caller may read it, and null for an empty field', async () => {
    const response = await http(t).get(`/inc-cars/${car.id}?include=owner,locker,safe`).set(ALICE).expect(200);
    // No ETag of the car's version alone, which would let If-None-Match hide a change of the owner
    // (Express may add its own, a digest of the whole answer).
    expect(response.headers.etag).not.toBe(`"${car.version}"`);
    expect(response.body).toEqual(
      expect.objectContaining({
        id: car.id,
        ownerId: owner.id,
        owner: expect.objectContaining({ id: owner.id, name: 'Ada', phone: '555-0100' }),
        locker: expect.objectContaining({ id: locker.id, code: 'L-1' }),
        safe: expect.objectContaining({ id: vault.id, label: 'V-1' }),
      }),
    );
    expect(response.body.owner).not.toHaveProperty('secret');
    expect(response.body).not.toHaveProperty('broker');

    const empty = await http(t).get(`/inc-cars/${bare.id}?include=locker,owner`).set(ALICE).expect(200);
    expect(empty.body).toEqual(expect.objectContaining({ locker: null, owner: expect.objectContaining({ id: owner.id }) }));
  });

  it("applies the included entity's field rules, record rules and entity rules", async () => {
    // Without owners:phone the owner comes without its phone.
    const asBob = await http(t).get(`/inc-cars/${car.id}?include=owner,locker`).set(BOB).expect(200);
    expect(asBob.body.owner).toEqual(expect.objectContaining({ id: owner.id, name: 'Ada' }));
    expect(asBob.body.owner).not.toHaveProperty('phone');
    // Bob holds the locker, so reads it without lockers:read; Carol does not, and learns nothing of it.
    expect(asBob.body.locker).toEqual(expect.objectContaining({ id: locker.id, code: 'L-1' }));
    const asCarol = await http(t).get(`/inc-cars/${car.id}?include=locker`).set(CAROL).expect(200);
    expect(asCarol.body.locker).toBeNull();
    // Vaults are closed to those without vaults:read, so including one is refused as reading it would be.
    expect(expectNestError(await http(t).get(`/inc-cars/${car.id}?include=safe`).set(CAROL), 403)).toContain('vaults:read');
    expectNestError(await http(t).get(`/inc-cars/${car.id}?include=safe`), 401);
    expectNestError(await http(t).get(`/inc-cars?include=safe`).set(BOB), 403);
  });

  it('never reveals a reference field the caller may not read', async () => {
    // A hidden field is no field to a caller: nor is its reference.
    expect(expectNestError(await http(t).get(`/inc-cars/${car.id}?include=previous`).set(ALICE), 400)).toBe(
      'cannot include previous: inc-cars can include owner, locker, safe, broker',
    );
    expect(expectNestError(await http(t).get(`/inc-cars/${car.id}?include=broker`).set(BOB), 403)).toContain('brokerId');
    const asAlice = await http(t).get(`/inc-cars/${car.id}?include=broker`).set(ALICE).expect(200);
    expect(asAlice.body.broker).toEqual(expect.objectContaining({ id: broker.id, name: 'Bea' }));
  });

  it('includes in lists and in the nested route', async () => {
    const list = await http(t).get('/inc-cars?include=owner,locker&sort=plate').set(BOB).expect(200);
    expect(list.body.items.map((item: { plate: string; owner: { id: string }; locker: unknown }) => [item.plate, item.owner.id, item.locker === null])).toEqual(
      [
        ['AB-123', owner.id, false],
        ['ZZ-999', owner.id, true],
      ],
    );
    // Bob reads the locker he holds, and so the cars in it, each with its owner.
    const nested = await http(t).get(`/inc-lockers/${locker.id}/inc-cars?include=owner,locker`).set(BOB).expect(200);
    expect(nested.body.items).toEqual([
      expect.objectContaining({ id: car.id, owner: expect.objectContaining({ id: owner.id }), locker: expect.objectContaining({ code: 'L-1' }) }),
    ]);
    expectNestError(await http(t).get(`/inc-lockers/${locker.id}/inc-cars?include=nope`).set(BOB), 400);
  });

  it('is never served from the cache: an included record is read as it is now', async () => {
    await http(t).get(`/inc-cars/${car.id}?include=owner`).expect(200);
    await http(t).get(`/inc-cars?include=owner`).expect(200);
    await http(t).patch(`/inc-owners/${owner.id}`).send({ name: 'Ada Lovelace' }).expect(200);
    expect((await http(t).get(`/inc-cars/${car.id}?include=owner`).expect(200)).body.owner.name).toBe('Ada Lovelace');
    const items = (await http(t).get(`/inc-cars?include=owner`).expect(200)).body.items as Array<{ owner: { name: string } }>;
    expect(items.map((item) => item.owner.name)).toEqual(['Ada Lovelace', 'Ada Lovelace']);
    await http(t).patch(`/inc-owners/${owner.id}`).send({ name: 'Ada' }).expect(200);
  });

  it.each([
    ['an unknown name', 'include=nope', 'cannot include nope: inc-cars can include owner, locker, safe, broker'],
    ['a name twice', 'include=owner,owner', 'include names a reference twice'],
    ['the parameter twice', 'include=owner&include=locker', 'query parameter include is repeated'],
    ['an empty name', 'include=owner,', 'include lists reference names separated by commas, e.g. include=permit'],
    ['a past version', 'include=owner&version=1', 'include reads the records referred to as they are now: not with version or asOf'],
  ])('answers 400 to %s', async (_case, query, message) => {
    expect(expectNestError(await http(t).get(`/inc-cars/${car.id}?${query}`).set(ALICE), 400)).toBe(message);
  });

  it('checks who asks before reading the query: 401 and 403 come before 400', async () => {
    const archive = await t.app.get<EntityRepository<Archive>>(getRepositoryToken(Archive)).create({ label: 'A-1', ownerId: owner.id });
    for (const query of [
      'include=owner,',
      'include=nope',
      'version=abc',
      'asOf=yesterday',
      'version=1&asOf=2026-01-01T00:00:00Z',
      'include=owner&version=1',
      'nope=1',
      'version=1&version=2',
    ]) {
      const url = `/inc-archives/${archive.id}?${query}`;
      expectNestError(await http(t).get(url), 401);
      expectNestError(await http(t).get(url).set(BOB), 403);
      expectNestError(await http(t).get(url).set(ALICE), 400);
    }
    const purge = `/inc-archives/${archive.id}?purge=maybe`;
    expectNestError(await http(t).delete(purge), 401);
    expectNestError(await http(t).delete(purge).set(ALICE), 403);
    expect(
      expectNestError(
        await http(t)
          .delete(purge)
          .set(asPrincipal({ id: 'dee', permissions: ['vaults:write'] })),
        400,
      ),
    ).toBe('purge must be true or false');
    // Misspelt, it would have soft-deleted the record where a purge was asked for.
    expect(
      expectNestError(
        await http(t)
          .delete(`/inc-archives/${archive.id}?Purge=true`)
          .set(asPrincipal({ id: 'dee', permissions: ['vaults:write'] })),
        400,
      ),
    ).toBe('unknown query parameter Purge: a delete takes only purge');
    await http(t).get(`/inc-archives/${archive.id}`).set(ALICE).expect(200);
    // The refusal carries the request id like any other answer of the route.
    expect((await http(t).get(`/inc-archives/${archive.id}?version=abc`)).headers['x-request-id']).toEqual(expect.any(String));
  });

  it('includes through the repository: every declared field for trusted code, as a route would for a principal', async () => {
    const cars = t.app.get<EntityRepository<Car>>(getRepositoryToken(Car));
    const trusted = await cars.findById<{ owner: EntityRecord<Owner> }>(car.id, { include: ['owner'] });
    expect(trusted!.owner).toEqual(expect.objectContaining({ name: 'Ada', secret: 's3cret' }));
    const forCarol = await cars.findById<{ owner: object; locker: object | null }>(car.id, {
      principal: { id: 'carol', permissions: [] },
      include: ['owner', 'locker'],
    });
    expect(forCarol!.locker).toBeNull();
    expect(forCarol!.owner).not.toHaveProperty('secret');
    const page = await cars.find({ where: { plate: 'ZZ-999' } }, { include: ['safe'] });
    expect(page.items).toEqual([expect.objectContaining({ id: bare.id, safe: null })]);
    await expect(cars.find({}, { include: ['nope'] })).rejects.toBeInstanceOf(InvalidQueryException);
    // Trusted code may include through a hidden field, which it reads anyway.
    expect((await cars.findById<{ previous: { id: string } }>(car.id, { include: ['previous'] }))!.previous.id).toBe(broker.id);
  });

  describe('filters through a reference', () => {
    const platesOf = async (query: string, as: Record<string, string> = ALICE) =>
      ((await http(t).get(`/inc-cars?${query}`).set(as).expect(200)).body.items as Array<{ plate: string }>).map((item) => item.plate);

    it('lists the records whose reference points to a record that matches, with any operator and the own filters', async () => {
      expect(await platesOf('owner.name=Ada&sort=plate')).toEqual(['AB-123', 'ZZ-999']);
      expect(await platesOf('owner.name=Bea')).toEqual([]);
      expect(await platesOf('broker.age[lt]=30')).toEqual(['AB-123']);
      expect(await platesOf('owner.age[gte]=30&plate[prefix]=ZZ')).toEqual(['ZZ-999']);
      expect(await platesOf('owner.name[in]=Bea,Ada&locker.code=L-1')).toEqual(['AB-123']);
      expect(await platesOf('safe.label=V-1')).toEqual(['AB-123']);
    });

    it('counts only records referred to that the caller may read, on fields it may read', async () => {
      // Carol may not see the locker, so cannot learn which car is in it; Bob holds it.
      expect(await platesOf('locker.code=L-1', CAROL)).toEqual([]);
      expect(await platesOf('locker.code=L-1', BOB)).toEqual(['AB-123']);
      expect(expectNestError(await http(t).get('/inc-cars?owner.phone=555-0100').set(BOB), 403)).toContain('phone');
      expect(await platesOf('owner.phone=555-0100', ALICE)).toEqual(['AB-123', 'ZZ-999']);
      expectNestError(await http(t).get('/inc-cars?safe.label=V-1').set(BOB), 403);
      expectNestError(await http(t).get('/inc-cars?safe.label=V-1'), 401);
      expect(expectNestError(await http(t).get('/inc-cars?broker.name=Bea').set(BOB), 403)).toContain('brokerId');
    });

    it.each([
      ['an unknown reference', 'nope.name=x', 'unknown query parameter nope.name: inc-cars has no reference named nope'],
      ['a reference through a hidden field', 'previous.name=Bea', 'unknown query parameter previous.name: inc-cars has no reference named previous'],
      ['an unknown field of the record referred to', 'owner.colour=red', 'unknown query parameter owner.colour: inc-owners has no field colour'],
      ['a hidden field of the record referred to', 'owner.secret=s3cret', 'unknown query parameter owner.secret: inc-owners has no field secret'],
      ['a malformed value', 'owner.age=old', 'owner.age must be a decimal number such as 10, -1.5 or 1e3'],
    ])('answers 400 to %s', async (_case, query, message) => {
      expect(expectNestError(await http(t).get(`/inc-cars?${query}`).set(ALICE), 400)).toBe(message);
    });

    it('is never served from the cache: a change of the record referred to shows at once', async () => {
      expect(await platesOf('owner.age=36')).toEqual(['AB-123', 'ZZ-999']);
      await http(t).patch(`/inc-owners/${owner.id}`).send({ age: 37 }).expect(200);
      expect(await platesOf('owner.age=36')).toEqual([]);
      await http(t).patch(`/inc-owners/${owner.id}`).send({ age: 36 }).expect(200);
      expect(await platesOf('owner.age=36')).toEqual(['AB-123', 'ZZ-999']);
    });

    it('pages through a filter that matches more records referred to than it looks up at once', async () => {
      const owners = t.app.get<EntityRepository<Owner>>(getRepositoryToken(Owner));
      const cars = t.app.get<EntityRepository<Car>>(getRepositoryToken(Car));
      const many = await owners.createMany(Array.from({ length: 130 }, (_, n) => ({ name: 'Many', secret: 'x', age: n })));
      // Every third owner has a car; others have none, and one car belongs to an owner of another name.
      const expected = (
        await cars.createMany(many.filter((_, n) => n % 3 === 0).map((o, n) => ({ plate: `M-${String(n).padStart(3, '0')}`, ownerId: o.id })))
      ).map((car) => car.plate);
      const plates: string[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const page: { body: { items: Array<{ plate: string }>; nextCursor: string | null } } = await http(t)
          .get(`/inc-cars?owner.name=Many&sort=-plate&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
          .expect(200);
        plates.push(...page.body.items.map((item) => item.plate));
        cursor = page.body.nextCursor;
      }
      expect(plates).toEqual([...expected].sort().reverse());
      expect(await platesOf('owner.name=Many&owner.age[lt]=6&sort=plate')).toEqual(['M-000', 'M-001']);
      // In code, trusted: the same filter.
      expect((await cars.find({ where: { 'owner.name': 'Many', 'owner.age': { gte: 126 } } })).items.map((car) => car.plate)).toEqual(['M-042', 'M-043']);
      // And on the nested route of another reference.
      expect((await http(t).get(`/inc-lockers/${locker.id}/inc-cars?owner.name=Ada`).set(BOB).expect(200)).body.items).toEqual([
        expect.objectContaining({ id: car.id }),
      ]);
    });
  });

  it('documents include on the read routes, with the names an entity can include', () => {
    const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
    const includeOf = (path: string) => document.paths[path]!.get!.parameters!.find((parameter) => 'name' in parameter && parameter.name === 'include');
    for (const path of ['/inc-cars', '/inc-cars/{id}', '/inc-lockers/{id}/inc-cars']) {
      expect(includeOf(path)).toEqual(
        expect.objectContaining({
          in: 'query',
          required: false,
          style: 'form',
          explode: false,
          schema: { type: 'array', items: { type: 'string', enum: ['owner', 'locker', 'safe', 'broker'] } },
        }),
      );
    }
    expect(includeOf('/inc-owners')).toBeUndefined();
    const record = document.components!.schemas!['CarRecord'] as { properties: Record<string, object>; required: string[] };
    expect(record.properties['owner']).toEqual({
      type: 'object',
      additionalProperties: true,
      nullable: true,
      description: 'Only with include=owner: the Owner record ownerId refers to, as the caller may read it, or null',
    });
    expect(record.properties).not.toHaveProperty('previous');
    expect(record.required).not.toContain('owner');
  });
});
