import 'reflect-metadata';
import { join } from 'node:path';
import { ADMIN, startSample, stopSample, type SampleProcess } from '../../support/sample-process.util.js';
import { withSampleStore } from '../../support/sample-store.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { AcknowledgedWrites, exited } from './acknowledged-writes.util.js';
import { isThreadOf, LmdbLockFile } from './lmdb-lock-file.util.js';

/** `npm test` runs 30 s of kills; MULTI_KILL_SECONDS=600 makes the long run. */
const SECONDS = Number(process.env.MULTI_KILL_SECONDS ?? 30);
const PLATFORMS = ['express', 'fastify', 'express'] as const;
const WRITERS = 3;
const READERS = 2;
const SEEDED = 2000;
/** The liveness bound the issue sets: no write on a surviving worker may wait longer. */
const STALL_MS = 1000;
/** A write that has not answered by then is certainly stalled. */
const REQUEST_TIMEOUT_MS = 15_000;
/** How long a kill waits for its moment (write lock held, read transaction open) before killing anyway. */
const AIM_MS = 3000;

type KillAim = 'write lock' | 'read transaction' | 'any moment';

interface Worker {
  slot: number;
  platform: (typeof PLATFORMS)[number];
  app?: SampleProcess;
  writesInFlight: number;
  /** Start times of the long list requests in flight. */
  scansInFlight: Set<number>;
}

interface Answer {
  status: number;
  body: any;
  ms: number;
}

interface Figures {
  kills: number;
  killsHoldingWriteLock: number;
  killsWithOwnerDiedSeen: number;
  /** Per kill that held the write lock: ms until another process held it or it was free again. */
  lockRecoveries: number[];
  killsHoldingReadTxn: number;
  killsWithWritesInFlight: number;
  killsWithScansInFlight: number;
  untargetedKills: number;
  restarts: number;
  writeLatencies: number[];
  stalls: string[];
  unexpected: string[];
  staleReads: string[];
  crossWorkerReads: number;
  scanLatencies: number[];
  staleReaderSlots: string[];
  /** Reader slots a killed process left behind, seen right after it was gone. */
  slotsLeftByKilled: number;
  readerSlotsSwept: number;
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(Math.random() * items.length)];
const permitBody = (number: string) => ({ number, client: 'multi', county: 'Travis' });

/** A request that measures itself and gives up after REQUEST_TIMEOUT_MS; throws when the process went away. */
async function request(app: SampleProcess, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${app.base}${path}`, {
    method,
    headers: { 'x-user': ADMIN, ...(options.body !== undefined && { 'content-type': 'application/json' }), ...options.headers },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text), ms: performance.now() - started };
}

/**
 * Three sample processes (Express, Fastify, Express) serve one data directory under load:
 * writers create (with idempotency keys), update (If-Match) and delete permits, readers read
 * what another worker acknowledged, and one client per worker keeps a long list scan in
 * flight. Every 2 to 3 s one worker gets SIGKILL (never the last one standing) and is started
 * again on the same directory. Kills are aimed: one in three waits until the victim holds
 * LMDB's write lock (read from the lock file), one until it has a list scan in flight and an
 * open read transaction in LMDB's reader table, one lands at any moment.
 *
 * Asserted: no write on a surviving worker waits over 1 s (a write lock left by a dead
 * process would stall every writer: LMDB's lock is a robust mutex, and this proves it); no
 * reader slot of a dead process outlives the next start-up; no worker serves a read older
 * than a write another worker acknowledged (Permit is @Cached); every acknowledged write is
 * on disk with at least its version; every create whose answer never came exists exactly
 * once after a retry with its key; verify() is clean.
 */
describe('several processes on one directory, killed at random', () => {
  it(
    `keeps every worker writing, serves no stale read and loses nothing over ${SECONDS} s of kills`,
    async () => {
      const dir = makeTempDir('nde-multikill-');
      const dataPath = join(dir.path, 'data');
      const workers: Worker[] = PLATFORMS.map((platform, slot) => ({ slot, platform, writesInFlight: 0, scansInFlight: new Set() }));
      const acknowledged = new AcknowledgedWrites();
      const figures: Figures = {
        kills: 0,
        killsHoldingWriteLock: 0,
        killsWithOwnerDiedSeen: 0,
        lockRecoveries: [],
        killsHoldingReadTxn: 0,
        killsWithWritesInFlight: 0,
        killsWithScansInFlight: 0,
        untargetedKills: 0,
        restarts: 0,
        writeLatencies: [],
        stalls: [],
        unexpected: [],
        staleReads: [],
        crossWorkerReads: 0,
        scanLatencies: [],
        staleReaderSlots: [],
        slotsLeftByKilled: 0,
        readerSlotsSwept: 0,
      };
      /** When each killed process was gone, by pid: its reader slots must not survive a start-up begun later. */
      const exitedAt = new Map<number, number>();
      let lockFile: LmdbLockFile | undefined;
      const restarts: Promise<void>[] = [];
      let serial = 0;
      let running = true;
      /** Workers killed and not answering again yet: their start-up competes for the CPU. */
      let restarting = 0;
      const up = () => workers.filter((worker) => worker.app !== undefined);
      const other = (than: string) => pick(up().filter((worker) => worker.app!.name !== than)) ?? pick(up());

      /** A write through `worker`, timed; undefined when the worker died under it (outcome unknown). */
      const write = async (worker: Worker, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> }) => {
        const app = worker.app;
        // Killed while this client was busy elsewhere.
        if (!app) return undefined;
        worker.writesInFlight++;
        try {
          const answer = { ...(await request(app, method, path, options)), by: app.name };
          figures.writeLatencies.push(answer.ms);
          if (answer.ms > STALL_MS) figures.stalls.push(`${method} ${path} on ${app.name}: ${Math.round(answer.ms)} ms (${restarting} workers starting)`);
          if (![200, 201, 204, 404, 412].includes(answer.status)) {
            figures.unexpected.push(`${method} ${path} on ${app.name}: ${answer.status} ${JSON.stringify(answer.body)}`);
          }
          return answer;
        } catch (error) {
          if (!app.child.killed) {
            figures.stalls.push(`${method} ${path} on ${app.name}, not killed: ${(error as Error).message} (${String((error as Error).cause)})`);
          }
          return undefined;
        } finally {
          worker.writesInFlight--;
        }
      };

      /** A read on `worker` that must show at least `version` of `id`, unless a delete of it was sent. */
      const readAtLeast = async (worker: Worker, id: string, version: number, acknowledgedBy: string) => {
        const app = worker.app;
        if (!app) return;
        const byId = Math.random() < 0.5;
        const number = acknowledged.permits.get(id)!.number;
        let answer: Answer;
        try {
          answer = await request(app, 'GET', byId ? `/permits/${id}` : `/permits?number=${number}`);
        } catch {
          return;
        }
        if (app.name !== acknowledgedBy) figures.crossWorkerReads++;
        const found = byId ? (answer.status === 200 ? answer.body : undefined) : answer.body?.items?.[0];
        if (found && found.version >= version) return;
        if (!found && acknowledged.permits.get(id)!.deleteSent) return;
        figures.staleReads.push(
          `${byId ? 'GET' : 'list'} ${id} on ${app.name}: v${version} acknowledged by ${acknowledgedBy}, read ${found ? `v${found.version}` : answer.status}`,
        );
      };

      const writer = async (client: number) => {
        while (running) {
          const worker = pick(up());
          if (!worker) {
            await sleep(20);
            continue;
          }
          const ids = acknowledged.live();
          const roll = Math.random();
          if (ids.length < 50 || roll < 0.35) {
            const number = `M-${client}-${serial++}`;
            const key = `key-${number}`;
            acknowledged.createSent(number, key);
            const answer = await write(worker, 'POST', '/permits', { body: permitBody(number), headers: { 'idempotency-key': key } });
            if (answer?.status === 201) acknowledged.created(answer.body.id, answer.body.version, number, answer.by);
            continue;
          }
          const id = pick(ids)!;
          const before = acknowledged.permits.get(id)!;
          const ifMatch = { 'if-match': `"${before.version}"` };
          if (roll < 0.9) {
            // Half the updates first read the permit on another worker, so that worker has it
            // cached, then read it there again once this write is acknowledged.
            const witness = roll < 0.6 ? other(worker.app!.name) : undefined;
            if (witness) await readAtLeast(witness, id, before.version, before.by);
            const answer = await write(worker, 'PATCH', `/permits/${id}`, { body: { client: `multi-${serial++}` }, headers: ifMatch });
            if (answer?.status !== 200) continue;
            acknowledged.updated(id, answer.body.version, answer.by);
            const reader = witness?.app ? witness : other(answer.by);
            if (reader) await readAtLeast(reader, id, answer.body.version, answer.by);
          } else {
            acknowledged.deleteSent(id);
            const answer = await write(worker, 'DELETE', `/permits/${id}`, { headers: ifMatch });
            if (answer?.status === 204) acknowledged.deleted(id);
          }
        }
      };

      const reader = async () => {
        while (running) {
          const id = pick(acknowledged.live());
          const permit = id === undefined ? undefined : acknowledged.permits.get(id);
          const worker = permit && other(permit.by);
          if (!worker || !permit) {
            await sleep(20);
            continue;
          }
          await readAtLeast(worker, id!, permit.version, permit.by);
        }
      };

      /** Keeps a list that scans every permit (no index gives this order) in flight on one worker. */
      const scanner = async (worker: Worker) => {
        while (running) {
          const app = worker.app;
          if (!app) {
            await sleep(50);
            continue;
          }
          const started = performance.now();
          worker.scansInFlight.add(started);
          try {
            const answer = await request(app, 'GET', `/permits?sort=county&limit=100&client[ne]=none-${serial++}`);
            if (answer.status !== 200) figures.unexpected.push(`scan on ${app.name}: ${answer.status}`);
            figures.scanLatencies.push(answer.ms);
          } catch {
            // Killed mid-scan.
          } finally {
            worker.scansInFlight.delete(started);
          }
          await sleep(250);
        }
      };

      /** Waits (up to AIM_MS) for a victim in the state `aim` asks for; undefined if none came. */
      const aimAt = async (aim: KillAim): Promise<Worker | undefined> => {
        const deadline = performance.now() + AIM_MS;
        while (aim !== 'any moment' && performance.now() < deadline) {
          const candidates = up();
          if (aim === 'write lock') {
            const owner = lockFile!.writeLockOwner();
            const holder = owner === undefined ? undefined : candidates.find((worker) => isThreadOf(worker.app!.child.pid!, owner));
            if (holder) return holder;
          } else {
            const scanning = candidates.filter((worker) => [...worker.scansInFlight].some((started) => performance.now() - started > 5));
            const reading = new Set(
              lockFile!
                .readers()
                .filter((slot) => slot.txnid !== undefined)
                .map((slot) => slot.pid),
            );
            const holder = scanning.find((worker) => reading.has(worker.app!.child.pid!));
            if (holder) return holder;
          }
          await sleep(1);
        }
        return undefined;
      };

      const restart = async (worker: Worker, app: SampleProcess, generation: number) => {
        restarting++;
        await exited(app.child);
        exitedAt.set(app.child.pid!, performance.now());
        figures.slotsLeftByKilled += lockFile!.readers().filter((slot) => slot.pid === app.child.pid).length;
        const begun = performance.now();
        let next: SampleProcess;
        try {
          next = await startSample(`${worker.platform}-${worker.slot}.${generation}`, dataPath, worker.platform);
        } finally {
          restarting--;
        }
        figures.restarts++;
        for (const slot of lockFile!.readers()) {
          const gone = exitedAt.get(slot.pid);
          if (gone !== undefined && gone < begun) {
            figures.staleReaderSlots.push(`pid ${slot.pid} (gone ${Math.round(begun - gone)} ms before ${next.name} started) still holds a reader slot`);
          }
        }
        worker.app = next;
      };

      try {
        const first = await startSample(`${workers[0]!.platform}-0`, dataPath, workers[0]!.platform);
        workers[0]!.app = first;
        // The other two open the store the first one created, at the same time.
        await Promise.all(
          workers.slice(1).map(async (worker) => (worker.app = await startSample(`${worker.platform}-${worker.slot}`, dataPath, worker.platform))),
        );
        lockFile = new LmdbLockFile(dataPath);
        for (let start = 0; start < SEEDED; start += 500) {
          const numbers = Array.from({ length: 500 }, (_, i) => `SEED-${start + i}`);
          const seeded = await request(first, 'POST', '/permits/batch', { body: numbers.map(permitBody) });
          expect(seeded.status).toBe(201);
          for (const permit of seeded.body) acknowledged.created(permit.id, permit.version, permit.number, first.name);
        }

        const clients = [
          ...Array.from({ length: WRITERS }, (_, client) => writer(client)),
          ...Array.from({ length: READERS }, () => reader()),
          ...workers.map((worker) => scanner(worker)),
        ];
        const aims: KillAim[] = ['write lock', 'read transaction', 'any moment'];
        const end = performance.now() + SECONDS * 1000;
        for (let generation = 1; performance.now() < end; generation++) {
          await sleep(2000 + Math.random() * 1000);
          while (up().length < 2) await sleep(20);
          const aim = aims[figures.kills % aims.length]!;
          const aimed = await aimAt(aim);
          // Never the last worker standing: the point is what the survivors do.
          const victim = aimed ?? pick(up())!;
          if (!aimed) figures.untargetedKills++;
          const app = victim.app!;
          const pid = app.child.pid!;
          const owner = lockFile.writeLockOwner();
          const heldWriteLock = owner !== undefined && isThreadOf(pid, owner);
          const heldReadTxn = lockFile.readers().some((slot) => slot.pid === pid && slot.txnid !== undefined);
          const writesInFlight = victim.writesInFlight;
          const scansInFlight = victim.scansInFlight.size;
          app.child.kill('SIGKILL');
          victim.app = undefined;
          figures.kills++;
          if (heldWriteLock) figures.killsHoldingWriteLock++;
          if (heldReadTxn) figures.killsHoldingReadTxn++;
          if (writesInFlight > 0) figures.killsWithWritesInFlight++;
          if (scansInFlight > 0) figures.killsWithScansInFlight++;
          if (heldWriteLock) {
            const killed = performance.now();
            await exited(app.child);
            // Seen only if no survivor has taken the lock yet; a survivor taking it gets EOWNERDEAD and repairs it.
            if (lockFile.writeLockOwnerDied()) figures.killsWithOwnerDiedSeen++;
            while (performance.now() - killed < REQUEST_TIMEOUT_MS && (lockFile.writeLockOwnerDied() || lockFile.writeLockOwner() === owner)) await sleep(1);
            figures.lockRecoveries.push(performance.now() - killed);
          }
          restarts.push(restart(victim, app, generation));
        }
        await Promise.all(restarts);
        await sleep(1000);
        running = false;
        await Promise.all(clients);

        const unknownCreates = acknowledged.unknownCreates.size;
        expect(await acknowledged.retryUnknownCreates(workers[1]!.app!, permitBody)).toEqual([]);
        const live = new Set(workers.map((worker) => worker.app!.child.pid!).concat(process.pid));
        expect(lockFile.readers().filter((slot) => !live.has(slot.pid))).toEqual([]);
        figures.readerSlotsSwept = lockFile.readerCheck();
        const readerStats = lockFile.readerStats();
        await lockFile.close();
        lockFile = undefined;
        await Promise.all(workers.map((worker) => stopSample(worker.app)));

        const lost = await withSampleStore(dataPath, (storage) => {
          expect(storage.verify().problems).toEqual([]);
          return acknowledged.lostIn(storage);
        });
        const latencies = [...figures.writeLatencies].sort((a, b) => a - b);
        const percentile = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0);
        console.warn(
          `multi-process kill: ${SECONDS} s, ${figures.kills} kills (${figures.killsHoldingWriteLock} holding the write lock, ` +
            `${figures.killsWithOwnerDiedSeen} of them caught with the lock marked owner-died, lock back in use after ` +
            `${figures.lockRecoveries.map((ms) => Math.round(ms)).join(', ')} ms; ${figures.killsHoldingReadTxn} holding a read transaction; ` +
            `${figures.killsWithWritesInFlight} with writes in flight, ${figures.killsWithScansInFlight} mid-scan; ${figures.untargetedKills} not aimed), ` +
            `${figures.restarts} restarts; ${latencies.length} writes answered, latency p50 ${percentile(0.5)} ms, p99 ${percentile(0.99)} ms, ` +
            `max ${percentile(1)} ms; ${acknowledged.count} acknowledged writes, ${acknowledged.permits.size} permits checked on disk, ` +
            `${unknownCreates} creates of unknown outcome retried; ${figures.crossWorkerReads} reads on another worker than the writer, ` +
            `${figures.scanLatencies.length} scans (p50 ${Math.round(median(figures.scanLatencies))} ms); reader table: ${figures.slotsLeftByKilled} slots left by killed processes, ` +
            `${figures.staleReaderSlots.length} still there after the next start-up, ` +
            `${readerStats.numReaders} of ${readerStats.maxReaders} slots ever used, ` +
            `${figures.readerSlotsSwept} stale at the end; lost: ${lost.length}`,
        );
        expect(figures.lockRecoveries.filter((ms) => ms > STALL_MS)).toEqual([]);
        expect(figures.stalls).toEqual([]);
        expect(figures.unexpected).toEqual([]);
        expect(figures.staleReads).toEqual([]);
        expect(figures.staleReaderSlots).toEqual([]);
        expect(figures.readerSlotsSwept).toBe(0);
        expect(lost).toEqual([]);
        // The run proves something only if kills did land mid-write and mid-read.
        expect(figures.killsHoldingWriteLock).toBeGreaterThan(0);
        expect(figures.killsHoldingReadTxn).toBeGreaterThan(0);
        expect(figures.killsWithScansInFlight).toBeGreaterThan(0);
        expect(figures.crossWorkerReads).toBeGreaterThan(100);
      } finally {
        running = false;
        await Promise.allSettled(restarts);
        await lockFile?.close();
        for (const worker of workers) worker.app?.child.kill('SIGKILL');
        await Promise.all(workers.map((worker) => (worker.app ? exited(worker.app.child) : undefined)));
        dir.remove();
      }
    },
    120_000 + SECONDS * 2_000,
  );
});
