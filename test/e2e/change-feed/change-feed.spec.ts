import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  EntitiesMaintenance,
  Entity,
  EntityRepository,
  Field,
  getRepositoryToken,
  PastStateGoneException,
  Permission,
  type EntityChange,
} from '../../../lib/index.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { asPrincipal, http, principalFromHeader } from '../support/e2e.util.js';
import { openSse, type SseFrame } from '../support/sse-client.util.js';

@Entity('cf-notes')
@Permission({ read: 'notes:read', create: 'notes:write', update: 'notes:write', delete: 'notes:write', owner: 'owner' })
class FeedNote {
  @Field() text!: string;
  @Field({ required: false, hidden: true }) secret?: string;
  @Field({ required: false }) @Permission({ read: 'notes:tags' }) tag?: string;
  @Field({ required: false }) owner?: string;
}

/** Another entity on the same log: its changes never show on the notes' feed. */
@Entity('cf-others')
class FeedOther {
  @Field() name!: string;
}

const WRITER = asPrincipal({ id: 'writer', permissions: ['notes:*'] });
/** Reads every note, but not its tag. */
const READER = asPrincipal({ id: 'reader', permissions: ['notes:read'] });
/** Writes, and reads only the notes it owns. */
const OWNER = asPrincipal({ id: 'olive', permissions: ['notes:write'] });

const change = (frame: SseFrame) => JSON.parse(frame.data!) as EntityChange & { record?: Record<string, unknown> };

describe.each(PLATFORMS)('the change feed on %s', (platform) => {
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp({ entities: [FeedNote, FeedOther], platform, module: { getPrincipal: principalFromHeader } });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(() => t.close());

  it('streams each change from now on, in log order, shaped as the caller reads records', async () => {
    const feed = await openSse(`${base}/cf-notes/changes`, READER);
    expect(feed.status).toBe(200);
    expect(feed.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(feed.headers['x-request-id']).toBeDefined();
    try {
      const note = await http(t).post('/cf-notes').set(WRITER).send({ text: 'one', secret: 's', tag: 't' }).expect(201);
      await http(t).post('/cf-others').send({ name: 'elsewhere' }).expect(201);
      await http(t).patch(`/cf-notes/${note.body.id}`).set(WRITER).send({ text: 'two' }).expect(200);
      await http(t).delete(`/cf-notes/${note.body.id}`).set(WRITER).expect(204);
      const frames = [await feed.next(), await feed.next(), await feed.next()];
      expect(frames.map((frame) => frame.event)).toEqual(['change', 'change', 'change']);
      const changes = frames.map(change);
      expect(changes.map((item) => [item.type, item.version, item.id])).toEqual([
        ['created', 1, note.body.id],
        ['updated', 2, note.body.id],
        ['deleted', 2, note.body.id],
      ]);
      expect(frames.map((frame) => Number(frame.id))).toEqual(changes.map((item) => item.seq));
      expect(changes[1]!.seq).toBe(changes[0]!.seq + 2);
      expect(changes[0]!.record).toEqual({
        id: note.body.id,
        version: 1,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        text: 'one',
        owner: 'writer',
      });
      expect(changes[1]!.record).toEqual(expect.objectContaining({ text: 'two', version: 2 }));
      expect(changes[2]!).not.toHaveProperty('record');
      expect(await feed.within(100)).toEqual([]);
    } finally {
      feed.close();
    }
  });

  it('resumes after Last-Event-ID (or ?after) with every later change once and none twice', async () => {
    const first = await openSse(`${base}/cf-notes/changes`, WRITER);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        (
          await http(t)
            .post('/cf-notes')
            .set(WRITER)
            .send({ text: `r${i}` })
        ).body.id,
      );
    const seen = [change(await first.next()), change(await first.next())];
    first.close();
    for (let i = 3; i < 5; i++)
      ids.push(
        (
          await http(t)
            .post('/cf-notes')
            .set(WRITER)
            .send({ text: `r${i}` })
        ).body.id,
      );

    const resumed = await openSse(`${base}/cf-notes/changes`, { ...WRITER, 'Last-Event-ID': String(seen[1]!.seq) });
    const rest = [change(await resumed.next()), change(await resumed.next()), change(await resumed.next())];
    expect(await resumed.within(100)).toEqual([]);
    resumed.close();
    expect([...seen, ...rest].map((item) => item.id)).toEqual(ids);

    const fromQuery = await openSse(`${base}/cf-notes/changes?after=${seen[0]!.seq}`, WRITER);
    expect(change(await fromQuery.next()).id).toBe(ids[1]);
    fromQuery.close();
  });

  it('leaves out records the caller may not read, and refuses callers who may read none', async () => {
    const feed = await openSse(`${base}/cf-notes/changes`, OWNER);
    try {
      await http(t).post('/cf-notes').set(WRITER).send({ text: 'not hers' }).expect(201);
      const hers = await http(t).post('/cf-notes').set(OWNER).send({ text: 'hers', tag: 'x' }).expect(201);
      const only = change(await feed.next());
      expect(only.id).toBe(hers.body.id);
      expect(only.record).not.toHaveProperty('tag');
      expect(await feed.within(100)).toEqual([]);
    } finally {
      feed.close();
    }
    const anonymous = await openSse(`${base}/cf-notes/changes`);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toEqual(expect.objectContaining({ statusCode: 401 }));
    const stranger = await openSse(`${base}/cf-notes/changes`, asPrincipal({ id: 'x', permissions: [] }));
    expect(stranger.status).toBe(200);
    stranger.close();
    const bad = await openSse(`${base}/cf-notes/changes`, { ...READER, 'Last-Event-ID': 'yesterday' });
    expect(bad.status).toBe(400);
    const filtered = await openSse(`${base}/cf-notes/changes?text=one`, READER);
    expect(filtered.status).toBe(400);
    expect(JSON.parse(filtered.body).message).toMatch(/takes only after/);
    const repeated = await openSse(`${base}/cf-notes/changes?after=1&after=2`, READER);
    expect([repeated.status, JSON.parse(repeated.body).message]).toEqual([400, 'query parameter after is repeated']);
  });

  it('is documented as an event stream', () => {
    const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
    const route = document.paths['/cf-notes/changes']?.get;
    expect(Object.keys(route?.responses?.['200'] && 'content' in route.responses['200'] ? route.responses['200'].content! : {})).toEqual(['text/event-stream']);
    expect(route?.parameters?.map((parameter) => ('name' in parameter ? parameter.name : ''))).toEqual(expect.arrayContaining(['Last-Event-ID', 'after']));
  });
});

describe('the change feed across processes and retention', () => {
  it('carries changes another app on the same directory commits, and answers 410 past the retained log', async () => {
    const dir = makeTempDir();
    const a = await createTestApp({
      entities: [FeedNote, FeedOther],
      path: dir.path,
      module: { eventRetention: { maxEvents: 2 }, getPrincipal: principalFromHeader },
    });
    const b = await createTestApp({ entities: [FeedNote, FeedOther], path: dir.path });
    try {
      const notesA = a.app.get<EntityRepository<FeedNote>>(getRepositoryToken(FeedNote));
      const notesB = b.app.get<EntityRepository<FeedNote>>(getRepositoryToken(FeedNote));
      const abort = new AbortController();
      const feed = notesA.subscribe({ signal: abort.signal });
      const made = await notesB.create({ text: 'from b', secret: 'kept' });
      const first = await feed.next();
      expect(first.value).toEqual(expect.objectContaining({ id: made.id, type: 'created', record: expect.objectContaining({ secret: 'kept' }) }));
      abort.abort();
      expect(await feed.next()).toEqual({ done: true, value: undefined });

      for (let i = 0; i < 4; i++) await notesB.update(made.id, { text: `v${i}` });
      await a.app.get(EntitiesMaintenance).runMaintenance();
      expect(() => notesA.subscribe({ afterSeq: 0 })).toThrow(PastStateGoneException);
      await a.app.listen(0, '127.0.0.1');
      const port = (a.app.getHttpServer().address() as AddressInfo).port;
      const gone = await openSse(`http://127.0.0.1:${port}/cf-notes/changes`, { ...WRITER, 'Last-Event-ID': '0' });
      expect(gone.status).toBe(410);
      // A seq past the log's end (a client of a store since restored from an older copy) would
      // take the next changes for ones it has seen: 410, so it reads the current state again.
      const last = (await notesA.events({ afterSeq: 0, limit: 1000 })).at(-1)!.seq;
      expect(() => notesA.subscribe({ afterSeq: last + 1 })).toThrow(/changes after seq \d+ cannot be told: the event log ends at seq \d+/);
      const ahead = await openSse(`http://127.0.0.1:${port}/cf-notes/changes?after=${last + 5}`, WRITER);
      expect(ahead.status).toBe(410);
      const current = await openSse(`http://127.0.0.1:${port}/cf-notes/changes`, { ...WRITER, 'Last-Event-ID': String(last) });
      expect(current.status).toBe(200);
      current.close();
    } finally {
      await b.close();
      await a.close();
      dir.remove();
    }
  });
});

describe.each(PLATFORMS)('open change streams at shutdown on %s', (platform) => {
  it('end, so the app closes rather than wait for its clients', async () => {
    const t = await createTestApp({ entities: [FeedNote, FeedOther], platform, module: { getPrincipal: principalFromHeader } });
    await t.app.listen(0, '127.0.0.1');
    const port = (t.app.getHttpServer().address() as AddressInfo).port;
    const feeds = await Promise.all([
      openSse(`http://127.0.0.1:${port}/cf-notes/changes`, READER),
      openSse(`http://127.0.0.1:${port}/cf-notes/changes`, WRITER),
    ]);
    const ended = feeds.map((feed) => feed.ended);
    const started = Date.now();
    await t.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    await Promise.all(ended);
  });

  it('end also when a client stopped reading, with changes waiting for it', async () => {
    const t = await createTestApp({ entities: [FeedNote, FeedOther], platform, module: { getPrincipal: principalFromHeader } });
    await t.app.listen(0, '127.0.0.1');
    const port = (t.app.getHttpServer().address() as AddressInfo).port;
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.on('error', () => undefined);
    const headers = Object.entries(READER).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`GET /cf-notes/changes HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n${headers.join('')}\r\n`);
    // It reads nothing from now on: the server's socket buffer and then the stream's fill up.
    socket.pause();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const notes = t.app.get<EntityRepository<FeedNote>>(getRepositoryToken(FeedNote));
    const text = 'x'.repeat(256 * 1024);
    for (let i = 0; i < 40; i++) await notes.create({ text });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    const closed = t.close().then(() => Date.now() - started);
    const took = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 8_000))]);
    socket.destroy();
    await closed;
    expect(took).toBeGreaterThanOrEqual(0);
    expect(took).toBeLessThan(3_000);
  }, 30_000);
});
