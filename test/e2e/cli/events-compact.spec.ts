import 'reflect-metadata';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createEntityDefinition } from '../../../lib/metadata/entity-definition.factory.js';
import { LmdbEnvironment } from '../../../lib/storage/lmdb-environment.store.js';
import { createStoreParts } from '../../../lib/wiring/store-parts.factory.js';
import { Permit } from '../../../sample/permit.entity.js';
import { permitBody } from '../../support/sample-process.util.js';
import { withSampleStore } from '../../support/sample-store.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { finished, ndjson, runCli, startCli, waitFor } from './cli-process.util.js';
import { definitionNamed, seedSampleStore, type SeededStore } from './cli-store.util.js';

describe('cli events', () => {
  const dir = makeTempDir('nde-cli-events-');
  const dataPath = join(dir.path, 'data');
  let seeded: SeededStore;

  beforeAll(async () => {
    seeded = await seedSampleStore(dataPath);
  });
  afterAll(() => dir.remove());

  it('prints the events after a seq, oldest first, as NDJSON; --limit and --entity narrow them', async () => {
    const all = ndjson((await runCli(['events', '--path', dataPath])).stdout);
    expect(all.map((event) => event.seq)).toEqual(Array.from({ length: seeded.events }, (_, i) => i + 1));
    const page = await runCli(['events', '--after', '5', '--limit', '3', '--path', dataPath]);
    expect(page.code).toBe(0);
    expect(ndjson(page.stdout)).toEqual(all.slice(5, 8));
    const inspections = ndjson((await runCli(['events', '--entity', 'inspections', '--path', dataPath])).stdout);
    expect(inspections).toHaveLength(seeded.inspections);
    expect(inspections).toEqual(all.filter((event) => event.entity === 'inspections'));
  });

  it('--follow prints events as other processes commit them, and ends cleanly on SIGTERM', async () => {
    const follower = startCli(['events', '--follow', '--after', String(seeded.events), '--interval', '50', '--path', dataPath]);
    const ended = finished(follower);
    // The second write is made only once the follower has printed the first: it can only have seen it by following.
    const ids = await withSampleStore(dataPath, async (storage) => {
      const permit = definitionNamed(storage, 'permits');
      const first = await storage.write((tx) => tx.create(permit, permitBody('BP-FOLLOW-1')).id);
      await waitFor(() => ndjson(follower.output.stdout).length === 1, 'the first followed event');
      const second = await storage.write((tx) => tx.create(permit, permitBody('BP-FOLLOW-2')).id);
      await waitFor(() => ndjson(follower.output.stdout).length === 2, 'the second followed event');
      return [first, second];
    });
    follower.kill('SIGTERM');
    const result = await ended;
    expect(result.code).toBe(0);
    expect(ndjson(result.stdout).map((event) => [event.seq, event.id])).toEqual([
      [seeded.events + 1, ids[0]],
      [seeded.events + 2, ids[1]],
    ]);
  }, 60_000);

  it('--follow says so when retention drops events it had not printed yet', async () => {
    const ownPath = join(dir.path, 'follow-gap');
    const own = await seedSampleStore(ownPath, { permits: 3, inspections: 0 });
    const follower = startCli(['events', '--follow', '--after', String(own.events), '--interval', '2000', '--path', ownPath]);
    const ended = finished(follower);
    await withSampleStore(ownPath, async (storage) => {
      const permit = definitionNamed(storage, 'permits');
      await storage.write((tx) => tx.create(permit, permitBody('BP-GAP-1')));
      await waitFor(() => ndjson(follower.output.stdout).length === 1, 'the first followed event');
      // Three more events, of which retention keeps one, all before the follower looks again.
      for (const n of [2, 3, 4]) await storage.write((tx) => tx.create(permit, permitBody(`BP-GAP-${n}`)));
      await storage.runMaintenance(Date.now(), { maxEvents: 1 });
      await waitFor(() => ndjson(follower.output.stdout).length === 2, 'the next followed event');
    });
    follower.kill('SIGTERM');
    const result = await ended;
    expect(ndjson(result.stdout).map((event) => event.seq)).toEqual([own.events + 1, own.events + 4]);
    expect(result.stderr).toContain(`events before seq ${own.events + 4} are no longer in the log (retention); printing from ${own.events + 4}`);
  }, 60_000);

  it('rejects a seq that is not a whole number as a usage error', async () => {
    const result = await runCli(['events', '--after', '-1', '--path', dataPath]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("option '--after <seq>' argument '-1' is invalid");
  });

  it('rejects an --entity the store has no entry for as a usage error, rather than printing nothing', async () => {
    const result = await runCli(['events', '--entity', 'inspection', '--path', dataPath]);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain('the store has no entity "inspection" (its entities: inspections, permits)');
  });
});

describe('cli compact', () => {
  const dir = makeTempDir('nde-cli-compact-');
  afterAll(() => dir.remove());

  it('keeps the newest events the given retention allows; the store still verifies and the log still tails', async () => {
    const dataPath = join(dir.path, 'given');
    const seeded = await seedSampleStore(dataPath);
    const result = await runCli(['compact', '--max-events', '5', '--path', dataPath]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `dropped ${seeded.events - 5} events (retention {"maxEvents":5}), the log now holds seq ${seeded.events - 4}..${seeded.events}`,
    );
    const stat = JSON.parse((await runCli(['stat', '--json', '--path', dataPath])).stdout);
    expect(stat.log).toMatchObject({ events: 5, firstSeq: seeded.events - 4, lastSeq: seeded.events });
    expect((await runCli(['verify', '--path', dataPath])).code).toBe(0);
    const tail = await runCli(['events', '--path', dataPath]);
    expect(ndjson(tail.stdout).map((event) => event.seq)).toEqual([0, 1, 2, 3, 4].map((i) => seeded.events - 4 + i));
    expect(tail.stderr).toContain(`events before seq ${seeded.events - 4} are no longer in the log (retention)`);
  }, 60_000);

  it("applies the app's own retention when none is given, and says when there is none", async () => {
    const dataPath = join(dir.path, 'recorded');
    const environment = new LmdbEnvironment(dataPath);
    const { storage } = createStoreParts(environment, { eventRetention: { maxEvents: 3 } });
    const permit = createEntityDefinition(Permit);
    storage.register(permit);
    await storage.open();
    for (let i = 0; i < 10; i++) await storage.write((tx) => tx.create(permit, permitBody(`BP-R-${i}`)));
    await storage.close();
    const result = await runCli(['compact', '--path', dataPath]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('dropped 7 events (retention {"maxEvents":3}), the log now holds seq 8..10');

    const unbounded = join(dir.path, 'unbounded');
    await seedSampleStore(unbounded, { permits: 3, inspections: 0 });
    const none = await runCli(['compact', '--path', unbounded]);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('dropped 0 events (no retention: the app keeps every event)');
  }, 60_000);

  it('--copy also writes a compacted copy that verifies and is no larger', async () => {
    const dataPath = join(dir.path, 'copied');
    await seedSampleStore(dataPath, { permits: 300, inspections: 50 });
    await withSampleStore(dataPath, (storage) =>
      storage.write((tx) => {
        const permit = definitionNamed(storage, 'permits');
        for (const { key } of [...storage.tablesOf(permit).records.getRange({ limit: 250 })]) tx.delete(permit, key as string);
      }),
    );
    const copy = join(dir.path, 'compacted');
    const result = await runCli(['compact', '--max-age', '1', '--copy', copy, '--path', dataPath]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`wrote a compacted copy to ${copy}`);
    expect((await runCli(['verify', '--path', copy])).code).toBe(0);
    expect(statSync(join(copy, 'data.mdb')).size).toBeLessThanOrEqual(statSync(join(dataPath, 'data.mdb')).size);
    const stat = JSON.parse((await runCli(['stat', '--json', '--path', copy])).stdout);
    expect(stat.log.events).toBe(1);
  }, 60_000);

  it('rejects a malformed duration as a usage error', async () => {
    const result = await runCli(['compact', '--max-age', 'soon', '--path', dir.path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected a duration such as 90000 (ms), 45s, 15m, 12h or 30d');
  });
});
