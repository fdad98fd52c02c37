import 'reflect-metadata';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ADMIN, call, startPair, startSample, stopSample, type SampleProcess } from '../../support/sample-process.util.js';
import { withSampleStore } from '../../support/sample-store.util.js';
import { describeWhen } from '../../support/requirement.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { mountSmallDisk, type SmallDisk } from './small-disk.util.js';
import { Findings } from './findings.util.js';
import { isSuccess, WriteLoad } from './write-load.util.js';

/** Liveness bound: how long a request may go unanswered, and writes may take to resume once space is back. */
const LIVENESS_MS = 10_000;
const NOTES_BYTES = 30_000;
/** Refused writes to see before space is freed; reads go on meanwhile. */
const REFUSALS = 12;
/** lmdb-js opens a map of 128 KiB unless told otherwise (the sample does not tell it) and grows it on demand. */
const LMDB_INITIAL_MAP = 128 * 1024;
const GROWN_FILE = 8 * 1024 * 1024;
const CRASH_OUTPUT = /[Uu]nhandled|FATAL ERROR|Segmentation fault|core dumped/;

const probe = mountSmallDisk('1m');
if (typeof probe !== 'string') probe.unmount();
const describeIfMountable = describeWhen(typeof probe === 'string' ? probe : undefined, 'the disk-full resume suite');

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await delay(50);
}

/**
 * README, Durability and limits: when the disk fills, writes answer 507 with a clear message
 * (503 for a write whose outcome is unknown), reads keep working, and writes resume once
 * space is freed, without a restart; no acknowledged write is lost. The sample runs as a
 * child process on a 32 MiB tmpfs under 6 clients; a filler file leaves 2 MiB free, and
 * once writes are refused the filler is deleted.
 */
describeIfMountable.each(['express', 'fastify'] as const)('a disk that fills and frees under load, on %s', (platform) => {
  it('refuses writes with 507 while full, keeps reading, resumes writing once space is freed without a restart, and loses nothing', async () => {
    const disk = mountSmallDisk('32m') as SmallDisk;
    const dataPath = join(disk.path, 'data');
    let app: SampleProcess | undefined;
    const findings = new Findings();
    try {
      app = await startSample('fill', dataPath, platform);
      disk.fill(2 * 1024 * 1024);
      const load = new WriteLoad(app, { clients: 6, prefix: 'FULL', answerMs: LIVENESS_MS, notesBytes: NOTES_BYTES });
      const startedAt = Date.now();
      load.start();
      const refusals = () => load.attempts.filter((attempt) => attempt.kind !== 'read' && !isSuccess(attempt.status));
      await until(() => refusals().length >= REFUSALS, 30_000);
      const readWhileFull = await load.readAcknowledged();
      disk.free();
      const freedAt = Date.now();
      const resumed = () => load.attempts.filter((attempt) => attempt.kind !== 'read' && attempt.startedAt > freedAt && isSuccess(attempt.status)).length;
      await until(() => resumed() >= 10, LIVENESS_MS);
      await load.stop();

      const refused = refusals();
      if (!refused.some((attempt) => attempt.status === 507)) findings.add('no write was answered 507', `${refused.length} refusals`);
      for (const attempt of refused) {
        if (attempt.status !== 507 && attempt.status !== 503) findings.add('a write answered other than 2xx, 507 or 503', `${attempt.kind} ${attempt.status}`);
        else if (attempt.status === 507 && !/full|space/i.test(attempt.message ?? ''))
          findings.add('a 507 without a clear message', attempt.message ?? '(none)');
      }
      if (readWhileFull === 0) findings.add('no acknowledged permit to read while the disk was full', '');
      for (const read of load.wrongReads) findings.add('a read did not return the acknowledged state', read);
      const stoppedAt = load.attempts.find((attempt) => attempt.kind !== 'read' && /until the process restarts/.test(attempt.message ?? ''));
      if (stoppedAt) findings.add('the store stopped writing on a full disk', stoppedAt.message ?? '');
      if (resumed() === 0) findings.add('writes did not resume after space was freed', `within ${LIVENESS_MS} ms, no restart`);
      if (app.child.exitCode !== null || app.child.signalCode !== null) findings.add('the process ended', String(app.child.signalCode ?? app.child.exitCode));
      const crash = CRASH_OUTPUT.exec(app.output());
      if (crash) findings.add('crash output', crash[0]);
      console.warn(
        `disk full and freed on ${platform}: ${refused.length} writes refused (${[...new Set(refused.map((attempt) => attempt.status))].join(', ')}), ` +
          `${readWhileFull} acknowledged permits read while full, ${resumed()} writes acknowledged after freeing, ` +
          `${load.acknowledgedWrites} acknowledged in all; first refusal after ${Math.min(...refused.map((attempt) => attempt.endedAt)) - startedAt} ms, ` +
          `first write after freeing acknowledged ${Math.min(...load.attempts.filter((attempt) => attempt.kind !== 'read' && attempt.startedAt > freedAt && isSuccess(attempt.status)).map((attempt) => attempt.endedAt)) - freedAt} ms after`,
      );
      await stopSample(app);
      app = undefined;
      await withSampleStore(dataPath, (storage) => load.checkStore(storage, findings));
      expect(findings.list()).toEqual([]);
    } finally {
      await stopSample(app);
      disk.unmount();
    }
  }, 90_000);
});

/**
 * README, Several processes: any number of processes may open one path. lmdb starts the map
 * small and grows it when a commit needs more; with two processes writing, each must carry
 * on past growth the other made. Two sample processes (express and fastify) write 30 KB
 * permits on one directory until its data file passes 8 MiB, 64 times lmdb's initial map.
 */
describe('the LMDB map growing under two processes on one directory', () => {
  it('keeps both processes writing and reading each other’s records, and loses nothing', async () => {
    const dir = makeTempDir('nde-map-');
    const dataPath = join(dir.path, 'data');
    let pair: SampleProcess[] = [];
    const findings = new Findings();
    try {
      pair = await startPair(dataPath);
      const names = pair.map((app) => app.name);
      const loads = pair.map((app) => new WriteLoad(app, { clients: 3, prefix: `MAP${app.name}`, answerMs: LIVENESS_MS, notesBytes: NOTES_BYTES }));
      for (const load of loads) load.start();
      const fileSize = () => statSync(join(dataPath, 'data.mdb')).size;
      await until(() => fileSize() >= GROWN_FILE, 60_000);
      await Promise.all(loads.map((load) => load.stop()));

      for (const [index, load] of loads.entries()) {
        for (const attempt of load.attempts) {
          if (!isSuccess(attempt.status))
            findings.add(`process ${pair[index]!.name} did not acknowledge a request`, `${attempt.kind} ${attempt.status} ${attempt.message ?? ''}`);
        }
        for (const read of load.wrongReads) findings.add(`process ${pair[index]!.name} read a wrong state`, read);
      }
      for (const [reader, writer] of [
        [pair[0]!, pair[1]!],
        [pair[1]!, pair[0]!],
      ]) {
        const listed = await call(reader, 'GET', `/permits?number[prefix]=MAP${writer.name}&limit=1000`, { user: ADMIN });
        if (listed.status !== 200 || listed.body.items.length === 0)
          findings.add(`process ${reader.name} does not list ${writer.name}'s permits`, String(listed.status));
      }
      for (const app of pair) if (CRASH_OUTPUT.test(app.output())) findings.add(`crash output from ${app.name}`, CRASH_OUTPUT.exec(app.output())![0]);
      await Promise.all(pair.map((app) => stopSample(app)));
      pair = [];
      const mapSize = await withSampleStore(dataPath, (storage) => {
        for (const load of loads) load.checkStore(storage, findings);
        return storage.environment.stat().mapSize;
      });
      console.warn(
        `map growth with two processes: data file ${(fileSize() / 2 ** 20).toFixed(1)} MiB, map ${(mapSize / 2 ** 20).toFixed(1)} MiB ` +
          `(lmdb starts at ${LMDB_INITIAL_MAP / 1024} KiB); writes acknowledged: ${loads.map((load, index) => `${names[index]} ${load.acknowledgedWrites}`).join(', ')}`,
      );
      expect(fileSize()).toBeGreaterThanOrEqual(GROWN_FILE);
      expect(mapSize).toBeGreaterThanOrEqual(GROWN_FILE);
      expect(findings.list()).toEqual([]);
    } finally {
      await Promise.all(pair.map((app) => stopSample(app)));
      dir.remove();
    }
  }, 120_000);
});
