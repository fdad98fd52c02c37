import request from 'supertest';
import {
  AccessDeniedException,
  AclService,
  Entity,
  Field,
  getRepositoryToken,
  Historize,
  Permission,
  type EntityChange,
  type EntityRepository,
} from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';

/**
 * README (Owner rule, Grants): an owner or a read grant opens a record's history only while
 * `history` follows `read`'s rule; a history rule of its own holds for them too.
 */
@Entity('ruled-notes')
@Historize('full')
@Permission({ read: 'notes:read', create: null, update: 'notes:update', history: 'notes:history', owner: 'by' })
class RuledNote {
  @Field() text!: string;
  @Field({ required: false }) by?: string;
}

@Entity('plain-notes')
@Historize('full')
@Permission({ read: 'notes:read', create: null, update: 'notes:update', owner: 'by' })
class PlainNote {
  @Field() text!: string;
  @Field({ required: false }) by?: string;
}

const as = (id: string, permissions: string[] = []) => JSON.stringify({ id, permissions });

describe.each(PLATFORMS)('a history rule of its own on %s', (platform) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      entities: [RuledNote, PlainNote],
      platform,
      module: { getPrincipal: (req: { headers: Record<string, string> }) => (req.headers['x-p'] ? JSON.parse(req.headers['x-p']) : undefined) },
    });
  });
  afterAll(() => t.close());

  async function editedNote(path: string): Promise<string> {
    const created = await request(t.server()).post(`/${path}`).set('x-p', as('alice')).send({ text: 'first draft' }).expect(201);
    await request(t.server()).patch(`/${path}/${created.body.id}`).set('x-p', as('alice')).send({ text: 'v2' }).expect(200);
    return created.body.id as string;
  }

  it('keeps the history, past versions and diffs from the owner without the history permission', async () => {
    const id = await editedNote('ruled-notes');
    for (const path of [`/ruled-notes/${id}/history`, `/ruled-notes/${id}?version=1`, `/ruled-notes/${id}/diff`]) {
      await request(t.server()).get(path).set('x-p', as('alice')).expect(403);
    }
    await request(t.server()).post(`/ruled-notes/${id}/revert`).set('x-p', as('alice')).send({ toVersion: 1 }).expect(403);
    await request(t.server()).get(`/ruled-notes/${id}`).set('x-p', as('alice')).expect(200);
  });

  it('keeps it from a read grantee and answers a reader without the permission 403, not 404', async () => {
    const id = await editedNote('ruled-notes');
    await t.app.get(AclService).grant('gina', 'ruled-notes', id, ['read']);
    await request(t.server()).get(`/ruled-notes/${id}`).set('x-p', as('gina')).expect(200);
    await request(t.server()).get(`/ruled-notes/${id}/history`).set('x-p', as('gina')).expect(403);
    await request(t.server())
      .get(`/ruled-notes/${id}/history`)
      .set('x-p', as('rita', ['notes:read']))
      .expect(403);
    const allowed = await request(t.server())
      .get(`/ruled-notes/${id}/history`)
      .set('x-p', as('hugo', ['notes:history']))
      .expect(200);
    expect(allowed.body.fields.text.map((entry: { value: string }) => entry.value)).toEqual(['v2', 'first draft']);
  });

  it('lets the owner and a read grantee read the history while it follows read', async () => {
    const id = await editedNote('plain-notes');
    await t.app.get(AclService).grant('gina', 'plain-notes', id, ['read']);
    for (const who of ['alice', 'gina']) {
      const history = await request(t.server()).get(`/plain-notes/${id}/history`).set('x-p', as(who)).expect(200);
      expect(history.body.fields.text.map((entry: { value: string }) => entry.value)).toEqual(['v2', 'first draft']);
    }
  });

  it('holds for a resumed change feed: past versions come without record, new changes with it', async () => {
    const notes: EntityRepository<RuledNote> = t.app.get(getRepositoryToken(RuledNote));
    const lastSeq = async () => (await notes.events({ afterSeq: 0, limit: 1_000_000 })).at(-1)?.seq ?? 0;
    for (const [who, permissions, past] of [
      ['alice', [], [null, null]],
      ['rita', ['notes:read'], [null, null]],
      ['hugo', ['notes:read', 'notes:history'], ['first draft', 'v2']],
    ] as const) {
      const start = await lastSeq();
      const id = await editedNote('ruled-notes');
      const abort = new AbortController();
      const got: EntityChange<object>[] = [];
      const reading = (async () => {
        for await (const change of notes.subscribe({ afterSeq: start, signal: abort.signal, principal: { id: who, permissions: [...permissions] } })) {
          got.push(change);
          if (got.length === 3) abort.abort();
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await notes.update(id, { text: `live for ${who}` });
      await reading;
      expect({ who, texts: got.map((change) => (change.record as { text?: string } | undefined)?.text ?? null) }).toEqual({
        who,
        texts: [...past, `live for ${who}`],
      });
    }
  });

  it('holds for a repository called with the owner as principal', async () => {
    const id = await editedNote('ruled-notes');
    const notes: EntityRepository<RuledNote> = t.app.get(getRepositoryToken(RuledNote));
    await expect(notes.history(id, { principal: { id: 'alice', permissions: [] } })).rejects.toThrow(AccessDeniedException);
    await expect(notes.history(id, { principal: { id: 'hugo', permissions: ['notes:history'] } })).resolves.toMatchObject({ id });
  });
});
