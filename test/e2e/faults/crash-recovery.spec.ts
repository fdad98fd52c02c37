import 'reflect-metadata';
import { join } from 'node:path';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { ADMIN, call, startSample, type SampleProcess } from '../../support/sample-process.util.js';
import { withSampleStore } from '../../support/sample-store.util.js';

/** `npm test` runs a short version; `npm run test:crash` runs 200 cycles. */
const CYCLES = Number(process.env.CRASH_CYCLES ?? 30);
/** Records a restart checks beyond those written since the last one; the final restart checks every one. */
const SAMPLED_CHECKS = 500;
const CLIENTS = 8;

/** What the clients were told: per record, the last acknowledged version, or that it was deleted. */
type Acknowledged = Map<string, { version: number; deleted: boolean; maybeDeleted?: boolean; number: string }>;

interface Figures {
  cycles: number;
  acknowledgedWrites: number;
  recordsChecked: number;
  lost: string[];
  unknownOutcomes: number;
}

/**
 * The sample runs as a child process; 8 clients create, update (If-Match) and delete
 * permits, creates carrying idempotency keys; the parent logs every acknowledged write and
 * kills the app with SIGKILL at a random moment (50 ms to 2 s). After each restart on the
 * same directory, every acknowledged write must be there (at least that version; deleted
 * ones absent), a create whose outcome was unknown, retried with its key, must exist exactly
 * once, and at the end verify() must find the store consistent.
 */
describe('crash recovery', () => {
  it(
    `loses no acknowledged write over ${CYCLES} SIGKILL cycles`,
    async () => {
      const dir = makeTempDir('nde-crash-');
      const dataPath = join(dir.path, 'data');
      const acknowledged: Acknowledged = new Map();
      const figures: Figures = { cycles: 0, acknowledgedWrites: 0, recordsChecked: 0, lost: [], unknownOutcomes: 0 };
      let serial = 0;
      /** Each record's acknowledged state as the last restart checked it. */
      const seen = new Map<string, string>();
      let app: SampleProcess | undefined;
      /** Creates whose answer never came; retried with their keys after the next restart. */
      let pending: { number: string; key: string }[] = [];
      try {
        for (let cycle = 0; cycle < CYCLES; cycle++) {
          app = await startSample(`crash-${cycle}`, dataPath, cycle % 2 === 0 ? 'express' : 'fastify');
          await checkAcknowledged(app, acknowledged, figures, { seen, sampled: SAMPLED_CHECKS });
          await retryUnknown(app, pending, acknowledged, figures);
          pending = [];
          let running = true;
          const clients = Array.from({ length: CLIENTS }, async (_, client) => {
            while (running) {
              const ids = [...acknowledged].filter(([, state]) => !state.deleted).map(([id]) => id);
              const roll = Math.random();
              try {
                if (ids.length < 5 || roll < 0.5) {
                  const number = `C-${client}-${serial++}`;
                  const key = `key-${number}`;
                  pending.push({ number, key });
                  const response = await call(app!, 'POST', '/permits', {
                    body: { number, client: 'crash', county: 'Travis' },
                    headers: { 'idempotency-key': key },
                  });
                  if (response.status === 201) {
                    acknowledged.set(response.body.id, { version: response.body.version, deleted: false, number });
                    figures.acknowledgedWrites++;
                    pending.splice(
                      pending.findIndex((entry) => entry.number === number),
                      1,
                    );
                  }
                } else {
                  const id = ids[Math.floor(Math.random() * ids.length)]!;
                  const state = acknowledged.get(id)!;
                  const ifMatch = { 'if-match': `"${state.version}"` };
                  if (roll < 0.9) {
                    const response = await call(app!, 'PATCH', `/permits/${id}`, { user: ADMIN, body: { client: `crash-${serial++}` }, headers: ifMatch });
                    if (response.status === 200 && response.body.version > (acknowledged.get(id)?.version ?? 0)) {
                      acknowledged.set(id, { ...acknowledged.get(id)!, version: response.body.version });
                      figures.acknowledgedWrites++;
                    }
                  } else {
                    // Marked first and kept until a restart shows the record: this delete, or another
                    // client's delete of the same record, may have committed though no answer said so.
                    acknowledged.set(id, { ...state, maybeDeleted: true });
                    const response = await call(app!, 'DELETE', `/permits/${id}`, { user: ADMIN, headers: ifMatch });
                    if (response.status === 204) {
                      acknowledged.set(id, { ...acknowledged.get(id)!, deleted: true });
                      figures.acknowledgedWrites++;
                    }
                  }
                }
              } catch {
                // The process was killed mid-request: the outcome is unknown to this client.
                running = false;
              }
            }
          });
          await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 1950));
          app.child.kill('SIGKILL');
          running = false;
          await Promise.all(clients);
          await new Promise<void>((resolve) =>
            app!.child.exitCode !== null || app!.child.signalCode !== null ? resolve() : app!.child.once('exit', () => resolve()),
          );
          app = undefined;
          figures.cycles++;
        }
        app = await startSample('crash-final', dataPath, 'express');
        await checkAcknowledged(app, acknowledged, figures);
        await retryUnknown(app, pending, acknowledged, figures);
        app.child.kill('SIGTERM');
        await new Promise<void>((resolve) => app!.child.once('exit', () => resolve()));
        app = undefined;

        await withSampleStore(dataPath, (storage) => {
          expect(storage.verify().problems).toEqual([]);
          if (process.env.CRASH_DEBUG) {
            for (const line of figures.lost) {
              const id = line.split(':')[0];
              console.warn(
                line,
                JSON.stringify(
                  storage
                    .events(0, 1e6)
                    .filter((event) => event.id === id)
                    .map((e) => [e.seq, e.type, e.version, e.at]),
                ),
              );
            }
          }
        });
        expect(figures.lost).toEqual([]);
        expect(figures.acknowledgedWrites).toBeGreaterThan(CYCLES);
        console.warn(
          `crash recovery: ${figures.cycles} cycles, ${figures.acknowledgedWrites} acknowledged writes, ` +
            `${figures.recordsChecked} record checks, ${figures.unknownOutcomes} unknown outcomes retried, lost: ${figures.lost.length}`,
        );
      } finally {
        app?.child.kill('SIGKILL');
        dir.remove();
      }
    },
    60_000 + CYCLES * 8_000,
  );
});

/**
 * Every acknowledged record is there with at least its acknowledged version; every acknowledged
 * delete is absent. With `sampling`, a restart checks the records whose acknowledged state changed
 * since the last check and `sampled` of the others, at random: checking them all at every restart
 * made a run's cost grow with the square of its cycles. The last restart checks them all.
 */
async function checkAcknowledged(
  app: SampleProcess,
  acknowledged: Acknowledged,
  figures: Figures,
  sampling?: { seen: Map<string, string>; sampled: number },
): Promise<void> {
  const unchanged = sampling ? [...acknowledged].filter(([id, state]) => sampling.seen.get(id) === JSON.stringify(state)).map(([id]) => id) : [];
  const skipped = new Set(unchanged.sort(() => Math.random() - 0.5).slice(sampling?.sampled ?? 0));
  for (const [id, state] of acknowledged) {
    if (skipped.has(id)) continue;
    figures.recordsChecked++;
    const response = await call(app, 'GET', `/permits/${id}`, { user: ADMIN });
    if (state.maybeDeleted && !state.deleted) {
      acknowledged.set(id, { ...state, deleted: response.status === 404, maybeDeleted: false });
      if (response.status === 404) continue;
    }
    if (state.deleted ? response.status !== 404 : response.status !== 200 || response.body.version < state.version) {
      figures.lost.push(`${id}: acknowledged ${state.deleted ? 'deleted' : `v${state.version}`}, found ${response.status} v${response.body?.version}`);
    }
  }
  if (sampling) for (const [id, state] of acknowledged) if (!skipped.has(id)) sampling.seen.set(id, JSON.stringify(state));
}

/** A create whose answer never came, retried with its idempotency key, must exist exactly once. */
async function retryUnknown(
  app: SampleProcess,
  pending: readonly { number: string; key: string }[],
  acknowledged: Acknowledged,
  figures: Figures,
): Promise<void> {
  for (const { number, key } of pending) {
    figures.unknownOutcomes++;
    const retried = await call(app, 'POST', '/permits', { body: { number, client: 'crash', county: 'Travis' }, headers: { 'idempotency-key': key } });
    expect(retried.status).toBe(201);
    acknowledged.set(retried.body.id, { version: retried.body.version, deleted: false, number });
    const matches = await call(app, 'GET', `/permits?number=${number}`, { user: ADMIN });
    expect(matches.body.items).toHaveLength(1);
  }
}
