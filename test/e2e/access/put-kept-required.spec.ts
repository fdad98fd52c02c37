import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Entity, EntityRepository, Field, getRepositoryToken, Permission } from '../../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { asPrincipal, http, principalFromHeader } from '../support/e2e.util.js';

@Entity('put-keys')
@Permission({ read: null, create: null, update: null, delete: null })
class ApiKey {
  @Field() label!: string;
  /** Required and hidden: nobody reads it back over HTTP, so nobody can send it back. */
  @Field({ hidden: true }) token!: string;
  /** Required, read and written only with keys:cost. */
  @Field() @Permission({ read: 'keys:cost', write: 'keys:cost' }) cost!: number;
}

/** Read needs memos:read; a caller with memos:update alone sees no field of a memo. */
@Entity('put-memos')
@Permission({ read: 'memos:read', update: 'memos:update' })
class Memo {
  @Field() title!: string;
  @Field() body!: string;
}

const ADMIN = asPrincipal({ id: 'admin', permissions: ['*'] });
const PLAIN = asPrincipal({ id: 'plain', permissions: [] });

/** README (Field rules): a PUT that leaves out a field its principal cannot read, or may not write, keeps its stored value. */
describe.each(PLATFORMS)('PUT leaving out required fields its caller cannot see or write, on %s', (platform) => {
  let t: TestApp;
  let keys: EntityRepository<ApiKey>;
  beforeAll(async () => {
    t = await createTestApp({ entities: [ApiKey, Memo], platform, module: { getPrincipal: principalFromHeader } });
    keys = t.app.get(getRepositoryToken(ApiKey));
  });
  afterAll(() => t.close());

  it('keeps a required hidden field the body leaves out', async () => {
    const key = await keys.create({ label: 'a', token: 'tok-1', cost: 1 });
    const put = await http(t).put(`/put-keys/${key.id}`).set(ADMIN).send({ label: 'b', cost: 2 }).expect(200);
    expect(put.body).toMatchObject({ label: 'b', cost: 2, version: 2 });
    expect(await keys.findById(key.id)).toMatchObject({ token: 'tok-1' });
  });

  it('lets a principal without read or write on a required field replace the others, keeping it', async () => {
    const key = await keys.create({ label: 'a', token: 'tok-2', cost: 7 });
    const put = await http(t).put(`/put-keys/${key.id}`).set(PLAIN).send({ label: 'c' }).expect(200);
    expect(put.body).toMatchObject({ label: 'c', version: 2 });
    expect(await keys.findById(key.id)).toMatchObject({ label: 'c', token: 'tok-2', cost: 7 });
  });

  it('lets a caller who may update a record but not read it replace the fields it sends, keeping the others', async () => {
    const memos = t.app.get<string, EntityRepository<Memo>>(getRepositoryToken(Memo));
    const memo = await memos.create({ title: 'a', body: 'kept' });
    const put = await http(t)
      .put(`/put-memos/${memo.id}`)
      .set(asPrincipal({ id: 'editor', permissions: ['memos:update'] }))
      .send({ title: 'b' })
      .expect(200);
    expect(put.body).toEqual({ id: memo.id, version: 2 });
    expect(await memos.findById(memo.id)).toMatchObject({ title: 'b', body: 'kept' });
    const reader = asPrincipal({ id: 'both', permissions: ['memos:update', 'memos:read'] });
    expect(JSON.stringify((await http(t).put(`/put-memos/${memo.id}`).set(reader).send({ title: 'c' }).expect(400)).body.message)).toContain('body');
  });

  it('documents the PUT body with those fields optional, and the POST body with them required', () => {
    const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
    const schemas = document.components!.schemas as Record<string, { required?: string[] }>;
    const body = (method: 'put' | 'post', path: string) =>
      (document.paths[path]![method]!.requestBody as { content: Record<string, { schema: { $ref: string } }> }).content['application/json']!.schema.$ref;
    expect(body('put', '/put-keys/{id}')).toBe('#/components/schemas/ReplaceApiKeyDto');
    expect(schemas.ReplaceApiKeyDto!.required).toEqual(['label']);
    expect(body('post', '/put-keys')).toBe('#/components/schemas/CreateApiKeyDto');
    expect(schemas.CreateApiKeyDto!.required?.sort()).toEqual(['cost', 'label', 'token']);
  });

  it('still refuses a required field left out by a principal who may write it, and POST without it', async () => {
    const key = await keys.create({ label: 'a', token: 'tok-3', cost: 3 });
    const put = await http(t).put(`/put-keys/${key.id}`).set(ADMIN).send({ label: 'd' }).expect(400);
    expect(JSON.stringify(put.body.message)).toContain('cost');
    await http(t).post('/put-keys').set(ADMIN).send({ label: 'e', cost: 1 }).expect(400);
    expect(await keys.findById(key.id)).toMatchObject({ label: 'a', version: 1 });
  });
});
