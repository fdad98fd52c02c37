import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Entity, EntityStorage, Field } from '../../../lib/index.js';
import { createTestApp, PLATFORMS } from '../../support/test-app.util.js';

@Entity('blobs')
class Blob {
  @Field() body!: string;
}

/** A tiny tmpfs, so the disk fills after a few writes. Needs root; elsewhere the suite is skipped with a reason. */
function mountSmallDisk(): { path: string; unmount: () => void } | string {
  const path = mkdtempSync(join(tmpdir(), 'nde-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', path], { stdio: 'pipe' });
  } catch (error) {
    rmSync(path, { recursive: true, force: true });
    return `cannot mount a small tmpfs here (${(error as Error).message.split('\n')[0]})`;
  }
  return {
    path,
    unmount: () => {
      // Lazy: after a failed commit lmdb may keep the file open until the process ends.
      execFileSync('umount', ['-l', path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

const probe = mountSmallDisk();
if (typeof probe === 'string') console.warn(`disk-full suite skipped: ${probe}`);
else probe.unmount();
const describeIfMountable = typeof probe === 'string' ? describe.skip : describe;

describeIfMountable.each(PLATFORMS)('a full disk on %s', (platform) => {
  it('answers writes with 507 or 503, never crashes, keeps reads working, and holds every acknowledged write', async () => {
    const disk = mountSmallDisk() as { path: string; unmount: () => void };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const t = await createTestApp({ entities: [Blob], platform, path: disk.path });
    try {
      const acknowledged: string[] = [];
      const failures: number[] = [];
      for (let i = 0; i < 200 && failures.length < 3; i++) {
        const response = await request(t.server()).post('/blobs').send({ body: `${i}:${'x'.repeat(60_000)}` });
        if (response.status === 201) acknowledged.push(response.body.id);
        else {
          failures.push(response.status);
          expect(response.body).toEqual(expect.objectContaining({ statusCode: response.status, message: expect.any(String) }));
        }
      }
      expect(acknowledged.length).toBeGreaterThan(0);
      expect(failures.length).toBeGreaterThan(0);
      for (const status of failures) expect([503, 507]).toContain(status);
      // The cause (ENOSPC) is read from lmdb's commitError: a full disk says so.
      expect(failures).toContain(507);
      for (const id of acknowledged) await request(t.server()).get(`/blobs/${id}`).expect(200);
      const list = await request(t.server()).get('/blobs?limit=1000').expect(200);
      expect(list.body.items.map((blob: { id: string }) => blob.id)).toEqual(acknowledged);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(unhandled).toEqual([]);
      expect(t.app.get(EntityStorage).verify().problems).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await t.close();
      disk.unmount();
    }
  }, 60_000);
});
