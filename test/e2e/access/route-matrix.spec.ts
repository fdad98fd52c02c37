import {
  AclService,
  Audited,
  Entity,
  EntityRepository,
  Field,
  getRepositoryToken,
  Historize,
  Permission,
  type Principal,
  type RecordGrant,
} from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { expectNestError, http, principalFromHeader, unique, type HttpResponse } from '../support/e2e.util.js';
import { as, missingId, type PrincipalHeaders } from './access.util.js';

/** Every action has a rule; no owner rule, so only a grant can open a record to a principal without permissions. */
@Entity('docs')
@Permission({ read: 'docs:read', create: 'docs:create', update: 'docs:update', delete: 'docs:delete' })
@Historize('full')
@Audited()
class MatrixDoc {
  @Field() title!: string;
  @Field() tag!: string;
}

/** Creating is open; everything else has a rule, and the creator owns its records. */
@Entity('memos')
@Permission({ read: 'memos:read', create: null, update: 'memos:update', delete: 'memos:delete', owner: 'ownerId' })
@Historize('full')
@Audited()
class MatrixMemo {
  @Field() title!: string;
  @Field() tag!: string;
  @Field({ required: false }) ownerId?: string;
}

type EntityName = 'docs' | 'memos';
type CollectionRoute = 'create' | 'batch' | 'list';
type RecordRoute = 'read' | 'replace' | 'update' | 'delete' | 'history' | 'audit' | 'grants-list' | 'grants-add' | 'grants-remove';
/** Statuses on record A (the one the principal may reach, if any), record B (another), and an id no record has. */
type OnTargets = readonly [onA: number, onB: number, onMissing: number];

interface Expectation {
  create: number;
  batch: number;
  /** A status, or the records (of A and B) that a 200 list holds. */
  list: number | readonly ('A' | 'B')[];
  records: Record<RecordRoute, OnTargets>;
}

const ROUTE_LABEL: Record<CollectionRoute | RecordRoute, string> = {
  create: 'POST /P',
  batch: 'POST /P/batch',
  list: 'GET /P',
  read: 'GET /P/:id',
  replace: 'PUT /P/:id',
  update: 'PATCH /P/:id',
  delete: 'DELETE /P/:id',
  history: 'GET /P/:id/history',
  audit: 'GET /P/:id/audit',
  'grants-list': 'GET /P/:id/grants',
  'grants-add': 'POST /P/:id/grants',
  'grants-remove': 'DELETE /P/:id/grants/:subject',
};
const RECORD_ROUTES = Object.keys(ROUTE_LABEL).filter((route) => !['create', 'batch', 'list'].includes(route)) as RecordRoute[];
const ROOT: Principal = { id: 'root', permissions: ['*'] };
/** Holds a read grant on every record of every test, so the grants routes always have one to list and remove. */
const BYSTANDER = 'bystander';

const same = (status: number): OnTargets => [status, status, status];

function everywhere(status: number): Expectation {
  return {
    create: status,
    batch: status,
    list: status,
    records: Object.fromEntries(RECORD_ROUTES.map((route) => [route, same(status)])) as Record<RecordRoute, OnTargets>,
  };
}

/** Entity-wide permission for every action: 2xx on any record, 404 only for an id no record has. */
const HOLDER: Expectation = {
  create: 201,
  batch: 201,
  list: ['A', 'B'],
  records: {
    read: [200, 200, 404],
    replace: [200, 200, 404],
    update: [200, 200, 404],
    delete: [204, 204, 404],
    history: [200, 200, 404],
    audit: [200, 200, 404],
    'grants-list': [200, 200, 404],
    'grants-add': [201, 201, 404],
    'grants-remove': [204, 204, 404],
  },
};

/** May reach record A only (a grant or the owner rule); B and unknown ids look alike: 404. */
function recordLevel(rights: { create: number; list: readonly ('A' | 'B')[]; update: number; delete: number; read: number }): Expectation {
  const onA = (status: number): OnTargets => [status, 404, 404];
  return {
    create: rights.create,
    batch: rights.create,
    list: rights.list,
    records: {
      read: onA(rights.read),
      replace: onA(rights.update),
      update: onA(rights.update),
      delete: onA(rights.delete),
      history: onA(rights.read),
      // Neither audit nor admin can be allowed by a record: without the entity-level permission, 403.
      audit: same(403),
      'grants-list': same(403),
      'grants-add': same(403),
      'grants-remove': same(403),
    },
  };
}

interface Scenario {
  entity: EntityName;
  /** Who asks, as it reads in test names. */
  who: string;
  /** The principal for a fresh id (tests never share principals), or none. */
  principal: (id: string) => Principal | undefined;
  /** Record A is created by the principal itself through `POST /P` (the owner rule). */
  createsA?: boolean;
  /** Grants and memberships, once A and B exist. */
  prepare?: (acl: AclService, principal: Principal, a: string) => Promise<void>;
  expected: Expectation;
}

const SCENARIOS: Scenario[] = [
  { entity: 'docs', who: 'an anonymous caller', principal: () => undefined, expected: everywhere(401) },
  { entity: 'docs', who: 'a principal without permissions or grants', principal: (id) => ({ id }), expected: everywhere(403) },
  {
    entity: 'docs',
    who: 'a principal holding each exact permission',
    principal: (id) => ({ id, permissions: ['docs:read', 'docs:create', 'docs:update', 'docs:delete', 'docs:admin'] }),
    expected: HOLDER,
  },
  { entity: 'docs', who: "a principal holding '*'", principal: (id) => ({ id, permissions: ['*'] }), expected: HOLDER },
  { entity: 'docs', who: "a principal holding 'docs:*'", principal: (id) => ({ id, permissions: ['docs:*'] }), expected: HOLDER },
  {
    entity: 'docs',
    who: 'a principal granted read on A',
    principal: (id) => ({ id }),
    prepare: async (acl, principal, a) => {
      await acl.grant(principal.id, 'docs', a, ['read']);
    },
    expected: recordLevel({ create: 403, list: ['A'], read: 200, update: 403, delete: 403 }),
  },
  {
    entity: 'docs',
    who: 'a member of a group granted read and update on A',
    principal: (id) => ({ id }),
    prepare: async (acl, principal, a) => {
      const group = unique('editors');
      await acl.addMember(principal.id, group);
      await acl.grant(`group:${group}`, 'docs', a, ['read', 'update']);
    },
    expected: recordLevel({ create: 403, list: ['A'], read: 200, update: 200, delete: 403 }),
  },
  {
    entity: 'docs',
    who: 'a principal whose grant on A was revoked',
    principal: (id) => ({ id }),
    prepare: async (acl, principal, a) => {
      await acl.grant(principal.id, 'docs', a, ['read', 'update', 'delete']);
      await acl.revoke(principal.id, 'docs', a);
    },
    expected: everywhere(403),
  },
  {
    entity: 'memos',
    who: 'an anonymous caller',
    principal: () => undefined,
    expected: { ...everywhere(401), create: 201, batch: 201 },
  },
  {
    entity: 'memos',
    who: 'a principal without permissions that owns nothing',
    principal: (id) => ({ id }),
    expected: recordLevel({ create: 201, list: [], read: 404, update: 404, delete: 404 }),
  },
  {
    entity: 'memos',
    who: 'the owner of A without permissions',
    principal: (id) => ({ id }),
    createsA: true,
    expected: recordLevel({ create: 201, list: ['A'], read: 200, update: 200, delete: 204 }),
  },
  { entity: 'memos', who: "a principal holding 'memos:*'", principal: (id) => ({ id, permissions: ['memos:*'] }), expected: HOLDER },
];

function describeTargets([onA, onB, onMissing]: OnTargets): string {
  return `${onA} on A, ${onB} on B, ${onMissing} on an unknown id`;
}

function describeCollection(expected: number | readonly ('A' | 'B')[]): string {
  return typeof expected === 'number' ? String(expected) : `200 listing ${expected.length === 0 ? 'nothing' : expected.join(' and ')}`;
}

interface Case {
  name: string;
  scenario: Scenario;
  route: CollectionRoute | RecordRoute;
}

const CASES: Case[] = SCENARIOS.flatMap((scenario) =>
  (Object.keys(ROUTE_LABEL) as (CollectionRoute | RecordRoute)[]).map((route) => {
    const label = ROUTE_LABEL[route].replace('/P', `/${scenario.entity}`);
    const outcome =
      route === 'create' || route === 'batch' || route === 'list'
        ? describeCollection(scenario.expected[route])
        : describeTargets(scenario.expected.records[route]);
    return { name: `${scenario.who} gets ${outcome} from ${label}`, scenario, route };
  }),
);

describe.each(PLATFORMS)('the route x principal matrix on %s', (platform) => {
  let t: TestApp;
  let acl: AclService;

  beforeAll(async () => {
    t = await createTestApp({ entities: [MatrixDoc, MatrixMemo], platform, module: { getPrincipal: principalFromHeader } });
    acl = t.app.get(AclService);
  });

  afterAll(async () => {
    await t?.close();
  });

  function repository(entity: EntityName): EntityRepository<{ title: string; tag: string }> {
    return t.app.get(getRepositoryToken(entity === 'docs' ? MatrixDoc : MatrixMemo));
  }

  async function create(entity: EntityName, headers: PrincipalHeaders, tag: string): Promise<string> {
    const response = await http(t).post(`/${entity}`).set(headers).send({ title: 'seed', tag });
    expect(response.status).toBe(201);
    return response.body.id as string;
  }

  function callCollection(route: CollectionRoute, entity: EntityName, headers: PrincipalHeaders, tag: string) {
    switch (route) {
      case 'create':
        return http(t)
          .post(`/${entity}`)
          .set(headers)
          .send({ title: 'new', tag: `${tag}-new` });
      case 'batch':
        return http(t)
          .post(`/${entity}/batch`)
          .set(headers)
          .send([
            { title: 'one', tag: `${tag}-new` },
            { title: 'two', tag: `${tag}-new` },
          ]);
      case 'list':
        return http(t).get(`/${entity}?tag=${tag}`).set(headers);
    }
  }

  function callRecord(route: RecordRoute, entity: EntityName, headers: PrincipalHeaders, id: string, tag: string) {
    const path = `/${entity}/${id}`;
    switch (route) {
      case 'read':
        return http(t).get(path).set(headers);
      case 'replace':
        return http(t).put(path).set(headers).send({ title: 'replaced', tag });
      case 'update':
        return http(t).patch(path).set(headers).send({ title: 'patched' });
      case 'delete':
        return http(t).delete(path).set(headers);
      case 'history':
        return http(t).get(`${path}/history`).set(headers);
      case 'audit':
        return http(t).get(`${path}/audit`).set(headers);
      case 'grants-list':
        return http(t).get(`${path}/grants`).set(headers);
      case 'grants-add':
        return http(t)
          .post(`${path}/grants`)
          .set(headers)
          .send({ subject: 'newcomer', rights: ['read'] });
      case 'grants-remove':
        return http(t).delete(`${path}/grants/${BYSTANDER}`).set(headers);
    }
  }

  /** A refused request changed nothing: the record is at version 1 and its grants are as they were before. */
  async function expectUnchanged(entity: EntityName, id: string, grantsBefore: RecordGrant[]): Promise<void> {
    const record = await repository(entity).findById(id);
    expect(record).toEqual(expect.objectContaining({ id, version: 1, title: 'seed' }));
    expect(acl.grantsOn(entity, id)).toEqual(grantsBefore);
  }

  /** What a successful answer must hold, beyond its status. */
  async function expectSuccessBody(route: RecordRoute, entity: EntityName, id: string, response: HttpResponse): Promise<void> {
    switch (route) {
      case 'read':
      case 'history':
        expect(response.body.id).toBe(id);
        return;
      case 'replace':
      case 'update':
        expect(response.body).toEqual(expect.objectContaining({ id, version: 2, title: route === 'replace' ? 'replaced' : 'patched' }));
        return;
      case 'delete':
        expect(await repository(entity).findById(id)).toBeNull();
        return;
      case 'audit':
        expect(response.body.items).toEqual([expect.objectContaining({ action: 'create', version: 1 })]);
        return;
      case 'grants-list':
        expect(response.body).toEqual({ items: acl.grantsOn(entity, id) });
        expect(response.body.items).toContainEqual({ subject: BYSTANDER, rights: ['read'] });
        return;
      case 'grants-add':
        expect(response.body).toEqual({ subject: 'newcomer', rights: ['read'] });
        expect(acl.grantsOn(entity, id)).toContainEqual({ subject: 'newcomer', rights: ['read'] });
        return;
      case 'grants-remove':
        expect(acl.grantsOn(entity, id).map((grant) => grant.subject)).not.toContain(BYSTANDER);
        return;
    }
  }

  it.each(CASES.map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, { scenario, route }) => {
    const tag = unique('tag');
    const principal = scenario.principal(unique('user'));
    const headers = as(principal);
    const a = await create(scenario.entity, scenario.createsA ? headers : as(ROOT), tag);
    const b = await create(scenario.entity, as(ROOT), tag);
    for (const id of [a, b]) await acl.grant(BYSTANDER, scenario.entity, id, ['read']);
    if (scenario.prepare) await scenario.prepare(acl, principal!, a);

    if (route === 'create' || route === 'batch' || route === 'list') {
      const expected = scenario.expected[route];
      const response = await callCollection(route, scenario.entity, headers, tag);
      if (typeof expected === 'number') {
        expect({ route, status: response.status }).toEqual({ route, status: expected });
        if (expected >= 400) expectNestError(response, expected);
        if (route === 'batch' && expected === 201) expect(response.body).toHaveLength(2);
      } else {
        expect({ route, status: response.status }).toEqual({ route, status: 200 });
        const labels = (response.body.items as Array<{ id: string }>).map((item) => (item.id === a ? 'A' : item.id === b ? 'B' : item.id));
        expect(labels).toEqual(expected);
        expect(response.body.nextCursor).toBeNull();
      }
      return;
    }

    const targets = [
      ['A', a],
      ['B', b],
      ['an unknown id', missingId()],
    ] as const;
    const expected = scenario.expected.records[route];
    for (const [index, [target, id]] of targets.entries()) {
      const grantsBefore = acl.grantsOn(scenario.entity, id);
      const response = await callRecord(route, scenario.entity, headers, id, tag);
      expect({ target, status: response.status }).toEqual({ target, status: expected[index] });
      if (response.status >= 400) {
        expectNestError(response, expected[index]!);
        if (target !== 'an unknown id') await expectUnchanged(scenario.entity, id, grantsBefore);
      } else {
        await expectSuccessBody(route, scenario.entity, id, response);
      }
    }
  });

  it('answers a refused write on a record the principal may not read exactly like one on an unknown id', async () => {
    const tag = unique('tag');
    const grantee = { id: unique('grantee') };
    const granted = await create('docs', as(ROOT), tag);
    const hidden = await create('docs', as(ROOT), tag);
    await acl.grant(grantee.id, 'docs', granted, ['read']);
    const unknown = missingId();
    const onHidden = await http(t).patch(`/docs/${hidden}`).set(as(grantee)).send({ title: 'x' });
    const onUnknown = await http(t).patch(`/docs/${unknown}`).set(as(grantee)).send({ title: 'x' });
    expect(onHidden.status).toBe(404);
    expect(onUnknown.status).toBe(404);
    expect(onHidden.body.error).toBe(onUnknown.body.error);
    expect(String(onHidden.body.message).replace(hidden, '<id>')).toBe(String(onUnknown.body.message).replace(unknown, '<id>'));
  });

  it('gives no way to tell an existing id from an unknown one to a principal with no possible record access', async () => {
    const existing = await create('docs', as(ROOT), unique('tag'));
    const nobody = as({ id: unique('nobody') });
    for (const route of RECORD_ROUTES) {
      const onExisting = await callRecord(route, 'docs', nobody, existing, 'tag');
      const onUnknown = await callRecord(route, 'docs', nobody, missingId(), 'tag');
      expect({ route, existing: onExisting.status, unknown: onUnknown.status }).toEqual({ route, existing: 403, unknown: 403 });
    }
  });
});
