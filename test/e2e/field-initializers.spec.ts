import 'reflect-metadata';
import { ValidateIf } from 'class-validator';
import request from 'supertest';
import { Entity, EntityRepository, Field, getRepositoryToken } from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../support/test-app.util.js';

/** Initialisers in the entity class, as users write them; `priority` declares a real default. */
@Entity('tickets')
class Ticket {
  @Field() title!: string;
  @Field({ required: false }) status: string = 'open';
  @Field({ required: false, default: 3 }) priority?: number;
}

/** The same, with a rule the compiled validator leaves to ValidationPipe. */
@Entity('chores')
class Chore {
  @Field() @ValidateIf(() => true) title!: string;
  @Field({ required: false }) status: string = 'open';
}

describe.each(PLATFORMS)('the entity class’s property initialisers, on %s', (platform) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp({ entities: [Ticket, Chore], platform });
  });
  afterAll(() => app.close());

  it.each(['tickets', 'chores'])('are not sent by PATCH: /%s changes only the fields the body names', async (path) => {
    const created = await request(app.server()).post(`/${path}`).send({ title: 'a', status: 'closed' }).expect(201);
    const patched = await request(app.server()).patch(`/${path}/${created.body.id}`).send({ title: 'b' }).expect(200);
    expect(patched.body).toMatchObject({ title: 'b', status: 'closed', version: 2 });
    const read = await request(app.server()).get(`/${path}/${created.body.id}`).expect(200);
    expect(read.body.status).toBe('closed');
  });

  it.each(['tickets', 'chores'])('are not defaults: /%s stores the same by POST, batch, PUT and the repository', async (path) => {
    const single = await request(app.server()).post(`/${path}`).send({ title: 'a' }).expect(201);
    const batch = await request(app.server())
      .post(`/${path}/batch`)
      .send([{ title: 'a' }])
      .expect(201);
    const replaced = await request(app.server()).put(`/${path}/${single.body.id}`).send({ title: 'c' }).expect(200);
    const repository = app.app.get<EntityRepository<Ticket | Chore>>(getRepositoryToken(path === 'tickets' ? Ticket : Chore));
    const direct = await repository.create({ title: 'd' } as Ticket);
    for (const record of [single.body, batch.body[0], replaced.body, direct]) expect(record).not.toHaveProperty('status');
  });

  it('leaves a declared default to apply: @Field({ default }) fills a create that omits the field', async () => {
    const created = await request(app.server()).post('/tickets').send({ title: 'a' }).expect(201);
    expect(created.body.priority).toBe(3);
    const patched = await request(app.server()).patch(`/tickets/${created.body.id}`).send({ priority: 1 }).expect(200);
    expect((await request(app.server()).patch(`/tickets/${created.body.id}`).send({ title: 'z' }).expect(200)).body.priority).toBe(patched.body.priority);
  });
});
