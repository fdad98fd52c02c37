import 'reflect-metadata';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN, call, startSample, stopSample, type SampleProcess } from '../../support/sample-process.util.js';
import { withSampleStore } from '../../support/sample-store.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { AcknowledgedWrites, exited } from './acknowledged-writes.util.js';
import { compileChildScript, runChildScript, type ChildRun } from './child-script.util.js';
import { startCli } from './cli-run.util.js';
import { hasStoreOpen, SAMPLE_READY, spawnSample, until } from './sample-startup.util.js';

/** `npm test` runs the short version; raise these for a long run. */
const FIRST_START_CYCLES = Number(process.env.CRASH_FIRST_START_CYCLES ?? 2);
const STARTUP_CYCLES = Number(process.env.CRASH_STARTUP_CYCLES ?? 4);
const REBUILD_CYCLES = Number(process.env.CRASH_REBUILD_CYCLES ?? 4);
const REBUILD_RECORDS = Number(process.env.CRASH_REBUILD_RECORDS ?? 10_000);
const BACKUP_CYCLES = Number(process.env.CRASH_BACKUP_CYCLES ?? 4);
const REBUILD_APP = join(dirname(fileURLToPath(import.meta.url)), 'index-rebuild-app.child.ts');
/** What version 2 of the rebuild app logs as it starts building its new indexes. */
const BUILDING = /building region, region_amount of orders/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const permitBody = (number: string) => ({ number, client: 'crash-variant', county: 'Travis' });

/**
 * Runs `loop` until `running()` is false; the first error it throws (a failed request, a wrong
 * status) stops it and is kept, to be asserted on once the main flow is done with the app.
 */
function background(running: () => boolean, loop: () => Promise<void>): { done: Promise<void>; errors: string[] } {
  const errors: string[] = [];
  const done = (async () => {
    try {
      while (running()) await loop();
    } catch (error) {
      errors.push((error as Error).message);
    }
  })();
  return { done, errors };
}

/** Whether a backup run has begun writing under `target` (wherever it keeps the copy while unfinished). */
function copyBegun(target: string): boolean {
  return existsSync(target) && readdirSync(target, { recursive: true, withFileTypes: true }).some((entry) => entry.isFile());
}

describe('crash variants', () => {
  /**
   * SIGKILL at random moments of the sample's start-up: while Nest loads, while the store
   * opens (creating the environment, the cursor key, reconciling indexes, the maintenance
   * write), while routes are mapped. First on an empty directory, where the killed process was
   * the one creating the store; then beside a second process that keeps serving acknowledged
   * writes. After each kill a new process must start on the directory and see every
   * acknowledged write, and verify() must be clean.
   */
  it(
    `survives kills during start-up (${FIRST_START_CYCLES} first starts, ${STARTUP_CYCLES} beside a live process)`,
    async () => {
      const dir = makeTempDir('nde-crash-startup-');
      const acknowledged = new AcknowledgedWrites();
      const figures = { kills: 0, killsWithStoreOpen: 0, killsAfterReady: 0 };
      let serving: SampleProcess | undefined;
      let restarted: SampleProcess | undefined;
      let running = true;
      try {
        // When the sample opens the store, and when it is ready, on this machine now.
        const calibrationPath = join(dir.path, 'calibration', 'data');
        const calibration = spawnSample(calibrationPath, 'express');
        let calibrationOutput = '';
        calibration.stdout!.on('data', (chunk: Buffer) => (calibrationOutput += chunk.toString()));
        const spawned = performance.now();
        await until(calibration, () => hasStoreOpen(calibration.pid!, calibrationPath));
        const openMs = performance.now() - spawned;
        await until(calibration, () => calibrationOutput.includes(SAMPLE_READY));
        const readyMs = performance.now() - spawned;
        calibration.kill('SIGTERM');
        await exited(calibration);

        /** Even cycles wait for the store to be opened and kill before the app is ready; odd ones kill at any moment. */
        const killDuringStartup = async (dataPath: string, platform: 'express' | 'fastify', cycle: number) => {
          const child = spawnSample(dataPath, platform);
          let output = '';
          child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
          if (cycle % 2 === 0) {
            await until(child, () => hasStoreOpen(child.pid!, dataPath));
            await sleep(Math.random() * (readyMs - openMs));
          } else {
            await sleep(Math.random() * readyMs);
          }
          if (hasStoreOpen(child.pid!, dataPath)) figures.killsWithStoreOpen++;
          if (output.includes(SAMPLE_READY)) figures.killsAfterReady++;
          child.kill('SIGKILL');
          figures.kills++;
          await exited(child);
        };

        for (let cycle = 0; cycle < FIRST_START_CYCLES; cycle++) {
          const dataPath = join(dir.path, `first-${cycle}`, 'data');
          await killDuringStartup(dataPath, cycle % 2 === 0 ? 'express' : 'fastify', cycle);
          restarted = await startSample(`first-${cycle}`, dataPath, 'fastify');
          const created = await call(restarted, 'POST', '/permits', { user: ADMIN, body: permitBody(`FIRST-${cycle}`) });
          expect(created.status).toBe(201);
          await stopSample(restarted);
          restarted = undefined;
          await withSampleStore(dataPath, (storage) => {
            expect(storage.verify().problems).toEqual([]);
            expect(storage.events(0, 10).map((event) => event.id)).toEqual([created.body.id]);
          });
        }

        const dataPath = join(dir.path, 'data');
        serving = await startSample('serving', dataPath, 'express');
        const app = serving;
        let serial = 0;
        const clients = Array.from({ length: 3 }, (_, client) =>
          background(
            () => running,
            async () => {
              const ids = acknowledged.live();
              if (ids.length < 20 || Math.random() < 0.4) {
                const number = `S-${client}-${serial++}`;
                const response = await call(app, 'POST', '/permits', { user: ADMIN, body: permitBody(number) });
                if (response.status !== 201) throw new Error(`create answered ${response.status}: ${JSON.stringify(response.body)}`);
                acknowledged.created(response.body.id, response.body.version, number, app.name);
              } else {
                const id = ids[Math.floor(Math.random() * ids.length)]!;
                const ifMatch = { 'if-match': `"${acknowledged.permits.get(id)!.version}"` };
                const response = await call(app, 'PATCH', `/permits/${id}`, { user: ADMIN, body: { client: `c-${serial++}` }, headers: ifMatch });
                if (response.status === 200) acknowledged.updated(id, response.body.version, app.name);
                else if (response.status !== 412) throw new Error(`update answered ${response.status}: ${JSON.stringify(response.body)}`);
              }
            },
          ),
        );
        for (let cycle = 0; cycle < STARTUP_CYCLES; cycle++) {
          const platform = cycle % 2 === 0 ? 'fastify' : 'express';
          await killDuringStartup(dataPath, platform, cycle);
          restarted = await startSample(`restarted-${cycle}`, dataPath, platform);
          for (const id of acknowledged.live().slice(-20)) {
            const read = await call(restarted, 'GET', `/permits/${id}`, { user: ADMIN });
            expect({ id, status: read.status, atLeastAcknowledged: read.body?.version >= acknowledged.permits.get(id)!.version }).toEqual({
              id,
              status: 200,
              atLeastAcknowledged: true,
            });
          }
          await stopSample(restarted);
          restarted = undefined;
          await withSampleStore(dataPath, (storage) => {
            expect(storage.verify().problems).toEqual([]);
            expect(acknowledged.lostIn(storage)).toEqual([]);
          });
        }
        running = false;
        await Promise.all(clients.map((client) => client.done));
        expect(clients.flatMap((client) => client.errors)).toEqual([]);
        await stopSample(serving);
        serving = undefined;
        await withSampleStore(dataPath, (storage) => {
          expect(storage.verify().problems).toEqual([]);
          expect(acknowledged.lostIn(storage)).toEqual([]);
        });
        console.warn(
          `crash during start-up: ${figures.kills} kills (the store opens ${Math.round(openMs)} ms after spawning, the app is ready at ${Math.round(readyMs)} ms), ` +
            `${figures.killsWithStoreOpen} after the store was opened, ${figures.killsAfterReady} of them after the app was ready; ` +
            `${acknowledged.count} acknowledged writes, lost: 0`,
        );
        // Kills must have landed both before the store was opened and while it was being opened.
        expect(figures.killsWithStoreOpen - figures.killsAfterReady).toBeGreaterThan(0);
        expect(figures.kills - figures.killsWithStoreOpen).toBeGreaterThan(0);
      } finally {
        running = false;
        await stopSample(restarted);
        await stopSample(serving);
        dir.remove();
      }
    },
    180_000 + (STARTUP_CYCLES + FIRST_START_CYCLES) * 20_000,
  );

  /**
   * Version 1 of a small app (index-rebuild-app.child.ts) fills a store; version 2 declares a
   * new @Index and a new @Composite, which the package builds from the records as it starts.
   * Each cycle version 1 changes records (creates, updates, deletes, so the entries an earlier
   * build left go stale, and version 1 records that the new indexes are gone), then version 2
   * starts and is killed, half the time at a random moment of its rebuild, half at a random
   * moment of its whole start-up. The next start must build the indexes completely: verify()
   * clean, one entry per record in each index, every query through the new index matching the
   * records, and every acknowledged write there.
   */
  it(
    `survives kills during an index rebuild at start-up (${REBUILD_CYCLES} cycles, ${REBUILD_RECORDS} records)`,
    async () => {
      const dir = makeTempDir('nde-crash-rebuild-');
      const dataPath = join(dir.path, 'data');
      const script = compileChildScript(REBUILD_APP, dir.path);
      const acknowledged = new Map<string, number | 'deleted'>();
      const figures = { kills: 0, interruptedRebuilds: 0, killsAfterReady: 0, buildingMs: 0, rebuildMs: 0 };
      let current: ChildRun | undefined;
      const start = (...args: string[]) => (current = runChildScript(script, [dataPath, ...args]));
      const run = async (...args: string[]) => {
        const child = start(...args);
        const ended = await child.ended;
        if (ended !== 0) throw new Error(`index-rebuild app ${args.join(' ')} ended with ${ended}:\n${child.output()}`);
        for (const report of child.reports) {
          for (const [id, version] of report.acknowledged ?? []) acknowledged.set(id, version);
          if (report.deleted) acknowledged.set(report.deleted, 'deleted');
        }
        return child;
      };
      try {
        await run('seed', String(REBUILD_RECORDS));
        // A first, uninterrupted build gives the windows the kills aim at.
        const first = start('open');
        const spawned = performance.now();
        await first.printed(BUILDING);
        figures.buildingMs = performance.now() - spawned;
        await first.printed(/^@@ \{"ready":true\}/);
        figures.rebuildMs = performance.now() - spawned - figures.buildingMs;
        expect(await first.ended).toBe(0);

        for (let cycle = 0; cycle < REBUILD_CYCLES; cycle++) {
          await run('churn', '200');
          const opening = start('open');
          const spawnedAt = performance.now();
          if (cycle % 2 === 0) {
            await opening.printed(BUILDING);
            await sleep(Math.random() * figures.rebuildMs);
          } else {
            await sleep(Math.random() * (figures.buildingMs + figures.rebuildMs));
          }
          if (opening.reports.some((report) => report.ready)) figures.killsAfterReady++;
          opening.child.kill('SIGKILL');
          figures.kills++;
          await opening.ended;
          const killedAfterMs = Math.round(performance.now() - spawnedAt);

          const checked = await run('check');
          if (BUILDING.test(checked.output())) figures.interruptedRebuilds++;
          const report = checked.reports.find((entry) => entry.verify);
          const records = report.records as Record<string, number>;
          const count = Object.keys(records).length;
          expect({ cycle, killedAfterMs, problems: report.verify.slice(0, 10), mismatched: report.mismatched }).toEqual({
            cycle,
            killedAfterMs,
            problems: [],
            mismatched: [],
          });
          expect(report.indexEntries).toEqual({ code: count, region: count, region_amount: count });
          expect(report.regionPlan).toMatch(/index region\b/);
          const lost = [...acknowledged]
            .filter(([id, version]) => (version === 'deleted' ? records[id] !== undefined : !(records[id]! >= version)))
            .map(([id, version]) => `${id}: acknowledged ${version}, stored ${records[id] ?? 'nothing'}`);
          expect(lost).toEqual([]);
        }
        console.warn(
          `crash during index rebuild: ${REBUILD_RECORDS} records, the build of 2 indexes starts ${Math.round(figures.buildingMs)} ms after spawning ` +
            `and takes ${Math.round(figures.rebuildMs)} ms; ${figures.kills} kills, ${figures.interruptedRebuilds} left the build to the next start, ` +
            `${figures.killsAfterReady} came after it was done; ${acknowledged.size} acknowledged records checked`,
        );
        expect(figures.interruptedRebuilds).toBeGreaterThan(0);
      } finally {
        const last = current as ChildRun | undefined;
        last?.child.kill('SIGKILL');
        await last?.ended;
        dir.remove();
      }
    },
    240_000 + REBUILD_CYCLES * 30_000,
  );

  /**
   * `backup <dir>` (the command line) copies the sample's store while the sample keeps
   * serving writes, and gets SIGKILL: half the time as soon as it has begun writing the copy,
   * half at a random moment of its run. Afterwards the store must be untouched (the sample
   * still writes, verify() clean, every acknowledged write there); whatever the killed run left
   * must not pass for a store that crashes whoever opens it (the CLI's verify on it must end
   * with an exit code, never a signal); and a new backup must be a complete copy holding every
   * write acknowledged before it began.
   */
  it(
    `survives kills during a backup (${BACKUP_CYCLES} cycles)`,
    async () => {
      const dir = makeTempDir('nde-crash-backup-');
      const dataPath = join(dir.path, 'data');
      const acknowledged = new AcknowledgedWrites();
      const figures = { kills: 0, killsMidCopy: 0, leftovers: [] as string[], backupMs: 0 };
      let serving: SampleProcess | undefined;
      let running = true;
      try {
        serving = await startSample('serving', dataPath, 'express');
        const app = serving;
        // Some 20 MB, so a copy takes long enough to be killed in the middle; batches stay under the 1 MiB body limit.
        for (let batch = 0; batch < 20; batch++) {
          const body = Array.from({ length: 200 }, (_, i) => ({ ...permitBody(`BK-${batch}-${i}`), internalNotes: 'n'.repeat(4000) }));
          const created = await call(app, 'POST', '/permits/batch', { user: ADMIN, body });
          expect(created.status).toBe(201);
          for (const permit of created.body) acknowledged.created(permit.id, permit.version, permit.number, app.name);
        }
        let serial = 0;
        const clients = Array.from({ length: 2 }, (_, client) =>
          background(
            () => running,
            async () => {
              const number = `W-${client}-${serial++}`;
              const response = await call(app, 'POST', '/permits', { user: ADMIN, body: permitBody(number) });
              if (response.status !== 201) throw new Error(`create answered ${response.status}: ${JSON.stringify(response.body)}`);
              acknowledged.created(response.body.id, response.body.version, number, app.name);
            },
          ),
        );

        const backUp = async (target: string) => {
          const before = acknowledged.snapshot();
          const started = performance.now();
          const run = await startCli(['backup', target, '--path', dataPath]).ended;
          expect({ target, ended: run.ended, stderr: run.stderr }).toEqual({ target, ended: 0, stderr: expect.stringMatching(/backed up/) });
          figures.backupMs = performance.now() - started;
          await withSampleStore(target, (storage) => {
            expect(storage.verify().problems).toEqual([]);
            expect(before.lostIn(storage)).toEqual([]);
          });
        };
        await backUp(join(dir.path, 'backup-first'));

        for (let cycle = 0; cycle < BACKUP_CYCLES; cycle++) {
          const target = join(dir.path, `backup-${cycle}`);
          const backup = startCli(['backup', target, '--path', dataPath]);
          if (cycle % 2 === 0) {
            while (!copyBegun(target) && backup.child.exitCode === null) await new Promise((resolve) => setImmediate(resolve));
          } else {
            await sleep(Math.random() * figures.backupMs);
          }
          if (copyBegun(target) && backup.child.exitCode === null) figures.killsMidCopy++;
          backup.child.kill('SIGKILL');
          figures.kills++;
          const killed = await backup.ended;

          const written = await call(app, 'POST', '/permits', { user: ADMIN, body: permitBody(`AFTER-${cycle}`) });
          expect(written.status).toBe(201);
          acknowledged.created(written.body.id, written.body.version, `AFTER-${cycle}`, app.name);
          if (existsSync(join(target, 'data.mdb'))) {
            // Only a child process opens what the killed run left: it may crash whoever opens it.
            const verified = await startCli(['verify', '--path', target]).ended;
            figures.leftovers.push(`${killed.ended === 'SIGKILL' ? 'killed' : `ended ${killed.ended}`}, then verify ended by ${verified.ended}`);
            expect({ cycle, leftover: target, verifyEndedBy: typeof verified.ended === 'string' ? verified.ended : 'an exit code' }).toEqual({
              cycle,
              leftover: target,
              verifyEndedBy: 'an exit code',
            });
          }
          await backUp(join(dir.path, `backup-${cycle}-again`));
        }
        running = false;
        await Promise.all(clients.map((client) => client.done));
        expect(clients.flatMap((client) => client.errors)).toEqual([]);
        await stopSample(serving);
        serving = undefined;
        await withSampleStore(dataPath, (storage) => {
          expect(storage.verify().problems).toEqual([]);
          expect(acknowledged.lostIn(storage)).toEqual([]);
        });
        console.warn(
          `crash during backup: ${figures.kills} kills, ${figures.killsMidCopy} mid-copy, a full backup run takes ${Math.round(figures.backupMs)} ms; ` +
            `leftovers: ${figures.leftovers.join('; ') || 'none'}; ${acknowledged.count} acknowledged writes, lost: 0`,
        );
        expect(figures.killsMidCopy).toBeGreaterThan(0);
      } finally {
        running = false;
        await stopSample(serving);
        dir.remove();
      }
    },
    120_000 + BACKUP_CYCLES * 40_000,
  );
});
