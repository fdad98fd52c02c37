import { Controller, Param, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import {
  Audited,
  AuditService,
  Composite,
  currentRequestId,
  Entity,
  EntityErrorsInterceptor,
  EntityRepository,
  EntityRequestGuard,
  Field,
  getRepositoryToken,
  InjectEntityRepository,
  Permission,
  RequestContextInterceptor,
  type AuditEntry,
} from '../../../lib/index.js';
import { PLATFORMS, type Platform, type TestApp } from '../../support/test-app.util.js';
import { asPrincipal, http, principalFromHeader } from '../support/e2e.util.js';
import { CapturingLogger, createObservedApp } from './observability-app.util.js';

@Entity('tickets')
@Audited()
@Composite(['queue', 'state'])
@Permission({ read: null, create: 'tickets:write', update: 'tickets:admin', delete: 'tickets:admin', owner: 'ownerId' })
class Ticket {
  @Field() queue!: string;
  @Field() state!: string;
  @Field({ required: false }) ownerId?: string;
}

/** A hand-written route that opts into request ids, as README shows. */
@Controller('desk')
@UseGuards(EntityRequestGuard)
@UseInterceptors(RequestContextInterceptor, EntityErrorsInterceptor)
class DeskController {
  constructor(@InjectEntityRepository(Ticket) private readonly tickets: EntityRepository<Ticket>) {}

  @Post(':id/close')
  close(@Param('id') id: string) {
    return this.tickets.update(id, { state: 'closed' }, { actor: 'desk' });
  }
}

const ALICE = asPrincipal({ id: 'alice', permissions: ['tickets:write'] });
const MALLORY = asPrincipal({ id: 'mallory', permissions: ['tickets:write'] });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe.each(PLATFORMS)('request ids on %s', (platform: Platform) => {
  let t: TestApp;
  let logger: CapturingLogger;
  let audit: AuditService;

  beforeAll(async () => {
    logger = new CapturingLogger();
    // Every list query is "slow", so each list request writes a log line from deep in the store.
    t = await createObservedApp({
      entities: [Ticket],
      platform,
      logger,
      controllers: [DeskController],
      module: { getPrincipal: principalFromHeader, slowQueryMs: 0 },
    });
    audit = t.app.get(AuditService);
  });

  afterAll(async () => {
    await t?.close();
  });

  async function trail(id: string): Promise<AuditEntry[]> {
    return (await audit.find({ entity: 'tickets', id, limit: 1000 })).items;
  }

  function queryLines(requestId: string): string[] {
    return logger
      .of('EntitiesQuery')
      .map((line) => line.message)
      .filter((message) => message.includes(requestId));
  }

  it('echoes the X-Request-Id it was sent and records the same id in the audit entry of the write', async () => {
    const created = await http(t).post('/tickets').set(ALICE).set('X-Request-Id', 'req-create-1').send({ queue: 'q1', state: 'open' });
    expect(created.status).toBe(201);
    expect(created.headers['x-request-id']).toBe('req-create-1');
    const updated = await http(t).patch(`/tickets/${created.body.id}`).set(ALICE).set('X-Request-Id', 'req-update-1').send({ state: 'done' });
    expect(updated.status).toBe(200);
    expect(updated.headers['x-request-id']).toBe('req-update-1');
    expect((await trail(created.body.id)).map((entry) => [entry.action, entry.request?.id])).toEqual([
      ['create', 'req-create-1'],
      ['update', 'req-update-1'],
    ]);
  });

  it('puts the id on the log lines written while serving the request', async () => {
    const response = await http(t).get('/tickets?queue=q1').set('X-Request-Id', 'req-list-1');
    expect(response.status).toBe(200);
    expect(response.headers['x-request-id']).toBe('req-list-1');
    const lines = queryLines('req-list-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[request req-list-1\] slow query: find on tickets took [\d.]+ ms \(slowQueryMs 0\); index queue_state by queue=/);
  });

  it('generates an id when none is sent, and answers, audits and logs under that one id', async () => {
    const created = await http(t).post('/tickets').set(ALICE).send({ queue: 'q2', state: 'open' });
    const id = created.headers['x-request-id'] as string;
    expect(id).toMatch(UUID);
    expect((await trail(created.body.id))[0]!.request?.id).toBe(id);

    const listed = await http(t).get('/tickets?queue=q2');
    const listId = listed.headers['x-request-id'] as string;
    expect(listId).toMatch(UUID);
    expect(listId).not.toBe(id);
    expect(queryLines(listId)).toHaveLength(1);
  });

  it('records a write refused by the guard under the id its answer carries', async () => {
    const { body: ticket } = await http(t).post('/tickets').set(ALICE).send({ queue: 'q3', state: 'open' });
    const refused = await http(t).patch(`/tickets/${ticket.id}`).send({ state: 'stolen' });
    expect(refused.status).toBe(401);
    const id = refused.headers['x-request-id'] as string;
    expect(id).toMatch(UUID);
    const denied = (await trail(ticket.id)).filter((entry) => entry.action === 'denied');
    expect(denied.map((entry) => entry.request?.id)).toEqual([id]);
  });

  it('records a write refused inside the handler under the id its answer carries', async () => {
    const { body: ticket } = await http(t).post('/tickets').set(ALICE).send({ queue: 'q4', state: 'open' });
    const refused = await http(t).patch(`/tickets/${ticket.id}`).set(MALLORY).send({ state: 'stolen' });
    expect(refused.status).toBe(403);
    const id = refused.headers['x-request-id'] as string;
    expect(id).toMatch(UUID);
    const denied = (await trail(ticket.id)).filter((entry) => entry.action === 'denied');
    expect(denied.map((entry) => [entry.actor, entry.request?.id])).toEqual([['mallory', id]]);
  });

  it.each([
    ['spaces and punctuation', 'id with spaces; and=more'],
    ['more than 128 characters', 'x'.repeat(129)],
  ])('replaces an X-Request-Id with %s by a generated one', async (_, header) => {
    const response = await http(t).get('/tickets').set('X-Request-Id', header);
    expect(response.status).toBe(200);
    expect(response.headers['x-request-id']).toMatch(UUID);
  });

  it('gives the same id to a hand-written route with EntityRequestGuard and RequestContextInterceptor, down to its audit entries', async () => {
    const { body: ticket } = await http(t).post('/tickets').set(ALICE).send({ queue: 'q5', state: 'open' });
    const closed = await http(t).post(`/desk/${ticket.id}/close`).set('X-Request-Id', 'desk-1');
    expect(closed.status).toBe(201);
    expect(closed.headers['x-request-id']).toBe('desk-1');
    const update = (await trail(ticket.id)).find((entry) => entry.action === 'update');
    expect(update).toEqual(expect.objectContaining({ actor: 'desk', request: { id: 'desk-1' } }));
  });

  it('logs nothing under a request id once the request is answered', async () => {
    const repository = t.app.get<EntityRepository<Ticket>>(getRepositoryToken(Ticket));
    const before = logger.of('EntitiesQuery').length;
    await repository.find({ where: { queue: 'q1' } });
    const lines = logger.of('EntitiesQuery').slice(before);
    expect(lines.map((line) => line.message.slice(0, 'slow query:'.length))).toEqual(['slow query:']);
  });
});

describe.each(PLATFORMS)('request ids with requestContext: false on %s', (platform: Platform) => {
  let t: TestApp;
  let logger: CapturingLogger;
  let seenByGetPrincipal: (string | undefined)[];

  beforeAll(async () => {
    logger = new CapturingLogger();
    seenByGetPrincipal = [];
    t = await createObservedApp({
      entities: [Ticket],
      platform,
      logger,
      controllers: [DeskController],
      module: {
        getPrincipal: (request: Parameters<typeof principalFromHeader>[0]) => {
          seenByGetPrincipal.push(currentRequestId());
          return principalFromHeader(request);
        },
        slowQueryMs: 0,
        requestContext: false,
      },
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('still answers with the id and audits writes, refused ones too, under it', async () => {
    const audit = t.app.get(AuditService);
    const created = await http(t).post('/tickets').set(ALICE).set('X-Request-Id', 'off-create').send({ queue: 'q1', state: 'open' });
    expect(created.status).toBe(201);
    expect(created.headers['x-request-id']).toBe('off-create');
    const refused = await http(t).patch(`/tickets/${created.body.id}`).set(MALLORY).set('X-Request-Id', 'off-refused').send({ state: 'x' });
    expect(refused.status).toBe(403);
    expect(refused.headers['x-request-id']).toBe('off-refused');
    const trail = (await audit.find({ entity: 'tickets', id: created.body.id, limit: 10 })).items;
    expect(trail.map((entry) => [entry.action, entry.request?.id])).toEqual([
      ['create', 'off-create'],
      ['denied', 'off-refused'],
    ]);
  });

  it('runs the work outside any request context: currentRequestId() is undefined and log lines carry no id', async () => {
    seenByGetPrincipal.length = 0;
    const listed = await http(t).get('/tickets?queue=q1').set('X-Request-Id', 'off-list');
    expect(listed.status).toBe(200);
    expect(listed.headers['x-request-id']).toBe('off-list');
    expect(seenByGetPrincipal).toEqual([undefined]);
    const lines = logger.of('EntitiesQuery').map((line) => line.message);
    expect(lines.some((line) => line.startsWith('slow query: find on tickets'))).toBe(true);
    expect(lines.filter((line) => line.includes('off-list'))).toEqual([]);
  });

  it('leaves RequestContextInterceptor on your own controllers as it is', async () => {
    const audit = t.app.get(AuditService);
    const { body: ticket } = await http(t).post('/tickets').set(ALICE).send({ queue: 'q2', state: 'open' });
    const closed = await http(t).post(`/desk/${ticket.id}/close`).set('X-Request-Id', 'off-desk');
    expect(closed.status).toBe(201);
    const update = (await audit.find({ entity: 'tickets', id: ticket.id, limit: 10 })).items.find((entry) => entry.action === 'update');
    expect(update).toEqual(expect.objectContaining({ request: { id: 'off-desk' } }));
  });
});

describe.each(PLATFORMS)('what currentRequestId() answers in an async getPrincipal on %s', (platform: Platform) => {
  async function seenBy(requestContext: boolean | undefined): Promise<{ before: string | undefined; after: string | undefined; logged: string[] }> {
    const logger = new CapturingLogger();
    const seen: { before: string | undefined; after: string | undefined } = { before: undefined, after: undefined };
    const t = await createObservedApp({
      entities: [Ticket],
      platform,
      logger,
      module: {
        getPrincipal: async (request: Parameters<typeof principalFromHeader>[0]) => {
          seen.before = currentRequestId();
          await new Promise((resolve) => setImmediate(resolve));
          seen.after = currentRequestId();
          return principalFromHeader(request);
        },
        slowQueryMs: 0,
        ...(requestContext !== undefined && { requestContext }),
      },
    });
    try {
      const listed = await http(t).get('/tickets?queue=q1').set('X-Request-Id', 'async-list');
      expect(listed.status).toBe(200);
      return { ...seen, logged: logger.of('EntitiesQuery').map((line) => line.message) };
    } finally {
      await t.close();
    }
  }

  it("by default: until the principal's first await, and the package's log lines still carry the id", async () => {
    const { before, after, logged } = await seenBy(undefined);
    expect([before, after]).toEqual(['async-list', undefined]);
    expect(logged.filter((line) => line.startsWith('[request async-list] slow query: find on tickets'))).toHaveLength(1);
  });

  it('with requestContext: true, across its awaits', async () => {
    const { before, after, logged } = await seenBy(true);
    expect([before, after]).toEqual(['async-list', 'async-list']);
    expect(logged.filter((line) => line.startsWith('[request async-list] slow query: find on tickets'))).toHaveLength(1);
  });

  it('with requestContext: false, never', async () => {
    const { before, after } = await seenBy(false);
    expect([before, after]).toEqual([undefined, undefined]);
  });
});
