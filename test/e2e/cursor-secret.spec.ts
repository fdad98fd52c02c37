import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { EntitiesMaintenance, Entity, Field, Index } from '../../lib/index.js';
import { createTestApp, PLATFORMS, type TestApp } from '../support/test-app.util.js';
import { makeTempDir } from '../support/temp-dir.util.js';

@Entity('parcels')
class Parcel {
  @Field() @Index() lot!: number;
}

const SECRET = 'a4f1c9e07b3d5a2e6f8c0b1d3e5f7a9c2b4d6e8f0a1c3e5b7d9f1a3c5e7b9d0f';
const OTHER = 'ffffffffffffffffffffffffffffffff00000000000000000000000000000000';

const lots = (page: request.Response) => page.body.items.map((item: Parcel) => item.lot);

describe.each(PLATFORMS)('cursorSecret, on %s', (platform) => {
  const apps: TestApp[] = [];
  const dirs: Array<ReturnType<typeof makeTempDir>> = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    for (const dir of dirs.splice(0)) dir.remove();
  });

  /**
   * A first instance with `SECRET`, five parcels and the cursor after its first page; and a second
   * one with `secret` on a copy of its store (another data directory holding the same records).
   */
  async function twoInstances(secret: string | undefined): Promise<{ cursor: string; other: TestApp }> {
    const first = await createTestApp({ entities: [Parcel], platform, module: { cursorSecret: SECRET } });
    apps.push(first);
    await request(first.server())
      .post('/parcels/batch')
      .send(Array.from({ length: 5 }, (_, lot) => ({ lot })))
      .expect(201);
    const page = await request(first.server()).get('/parcels?sort=lot&limit=2').expect(200);
    expect(lots(page)).toEqual([0, 1]);
    const dir = makeTempDir('nde-cursor-secret-');
    dirs.push(dir);
    const copy = join(dir.path, 'copy');
    await first.app.get(EntitiesMaintenance).backup(copy);
    const other = await createTestApp({ entities: [Parcel], platform, path: copy, module: secret === undefined ? {} : { cursorSecret: secret } });
    apps.push(other);
    return { cursor: page.body.nextCursor as string, other };
  }

  it('lets an instance on another data directory go on from a cursor sealed with the same secret', async () => {
    const { cursor, other } = await twoInstances(SECRET);
    const next = await request(other.server())
      .get(`/parcels?sort=lot&limit=2&cursor=${encodeURIComponent(cursor)}`)
      .expect(200);
    expect(lots(next)).toEqual([2, 3]);
  });

  it.each([
    ['another secret', OTHER],
    ["the store's own key", undefined],
  ])('answers 400 to a cursor sealed with the secret where the instance uses %s', async (_label, secret) => {
    const { cursor, other } = await twoInstances(secret);
    expect((await request(other.server()).get(`/parcels?sort=lot&limit=2&cursor=${encodeURIComponent(cursor)}`)).status).toBe(400);
  });

  it('fails start-up on a secret shorter than 32 bytes, naming the option, before creating the store', async () => {
    const dir = makeTempDir('nde-cursor-secret-');
    dirs.push(dir);
    const path = join(dir.path, 'data');
    await expect(createTestApp({ entities: [Parcel], platform, path, module: { cursorSecret: 'short' } })).rejects.toThrow(
      'cursorSecret must be at least 32 bytes (got 5)',
    );
    expect(existsSync(path)).toBe(false);
  });
});
