import 'reflect-metadata';
import { join } from 'node:path';
import { describeWhen } from '../../support/requirement.util.js';
import { ADMIN, call, startSample, stopSample, type SampleProcess } from '../../support/sample-process.util.js';
import { withSampleStore } from '../../support/sample-store.util.js';
import { mountSmallDisk, type SmallDisk } from './small-disk.util.js';

/** A tiny tmpfs, so the disk fills after a few writes. Needs root. */
const DISK_SIZE = '3m';

const probe = mountSmallDisk(DISK_SIZE);
if (typeof probe !== 'string') probe.unmount();
const describeIfMountable = describeWhen(typeof probe === 'string' ? probe : undefined, 'the disk-full suite');

/**
 * The sample app runs as its own process on a 3 MiB disk, so whatever lmdb keeps after a
 * failed commit ends with that process, as it would in production.
 */
describeIfMountable.each(['express', 'fastify'] as const)('a full disk under the sample on %s', (platform) => {
  it('answers writes with 507, never crashes, keeps reads working, and holds every acknowledged write', async () => {
    const disk = mountSmallDisk(DISK_SIZE) as SmallDisk;
    let app: SampleProcess | undefined;
    try {
      app = await startSample('full', join(disk.path, 'data'), platform);
      const acknowledged: string[] = [];
      const failures: number[] = [];
      for (let i = 0; i < 200 && failures.length < 3; i++) {
        const response = await call(app, 'POST', '/permits', {
          body: { number: `FULL-${i}`, client: 'Acme', county: 'Travis', internalNotes: 'x'.repeat(60_000) },
        });
        if (response.status === 201) acknowledged.push(response.body.id);
        else {
          failures.push(response.status);
          expect(response.body).toEqual(expect.objectContaining({ statusCode: response.status, message: expect.any(String) }));
        }
      }
      expect(acknowledged.length).toBeGreaterThan(0);
      expect(failures).toEqual([507, 507, 507]);
      for (const id of acknowledged) expect((await call(app, 'GET', `/permits/${id}`, { user: ADMIN })).status).toBe(200);
      const listed = await call(app, 'GET', '/permits?limit=1000', { user: ADMIN });
      expect(listed.body.items.map((permit: { id: string }) => permit.id)).toEqual(acknowledged);
      expect(app.child.exitCode).toBeNull();
      expect(app.output()).not.toMatch(/unhandled|UnhandledPromiseRejection/i);
      await stopSample(app);
      app = undefined;
      await withSampleStore(join(disk.path, 'data'), (storage) => {
        expect(storage.verify().problems).toEqual([]);
        expect(
          storage
            .events(0, 1000)
            .filter((event) => event.type === 'created')
            .map((event) => event.id),
        ).toEqual(acknowledged);
      });
    } finally {
      await stopSample(app);
      disk.unmount();
    }
  }, 90_000);
});
