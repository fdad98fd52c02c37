import 'reflect-metadata';
import { join } from 'node:path';
import { ADMIN, call, stopSample, type SampleProcess } from '../../support/sample-process.util.js';
import { withSampleStore } from '../../support/sample-store.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { range, scaled, startProcesses } from './concurrency.util.js';

const PROCESSES = Math.max(2, Number(process.env.CONCURRENCY_PROCESSES ?? 3));
const CLIENTS_PER_PROCESS = 2;
const INCREMENTS_PER_CLIENT = scaled(20);
const CLIENTS = PROCESSES * CLIENTS_PER_PROCESS;
const TOTAL = CLIENTS * INCREMENTS_PER_CLIENT;

/** The sample keeps `{ versions: 5 }` of every permit field but status. */
const KEPT_VERSIONS = 5;

interface Success {
  client: number;
  value: number;
  version: number;
}

/**
 * Several sample processes share one data directory; every client reads the permit, then
 * PATCHes `estimatedCost` to what it read plus one with `If-Match` on the version it read,
 * and on 412 reads again. If two writers could both pass the version check, an increment
 * would be lost and two clients would be told they wrote the same value.
 */
describe('If-Match increments from several processes', () => {
  it(
    `counts ${TOTAL} increments from ${CLIENTS} clients on ${PROCESSES} processes exactly once each`,
    async () => {
      const dir = makeTempDir('nde-increments-');
      const dataPath = join(dir.path, 'data');
      let processes: SampleProcess[] = [];
      try {
        processes = await startProcesses(PROCESSES, dataPath, 'increments');
        const created = await call(processes[0]!, 'POST', '/permits', {
          user: ADMIN,
          body: { number: 'INC-0001', client: 'Counter', county: 'Travis', estimatedCost: 0 },
        });
        expect(created.status).toBe(201);
        const id = created.body.id as string;

        const successes: Success[] = [];
        let conflicts = 0;
        await Promise.all(
          range(CLIENTS).map(async (client) => {
            const app = processes[client % PROCESSES]!;
            let done = 0;
            while (done < INCREMENTS_PER_CLIENT) {
              const read = await call(app, 'GET', `/permits/${id}`, { user: ADMIN });
              if (read.status !== 200) throw new Error(`client ${client}: GET answered ${read.status} ${JSON.stringify(read.body)}`);
              expect(read.etag).toBe(`"${read.body.version}"`);
              const written = await call(app, 'PATCH', `/permits/${id}`, {
                user: ADMIN,
                body: { estimatedCost: read.body.estimatedCost + 1 },
                headers: { 'if-match': read.etag! },
              });
              if (written.status === 412) {
                conflicts++;
                continue;
              }
              if (written.status !== 200) throw new Error(`client ${client}: PATCH answered ${written.status} ${JSON.stringify(written.body)}`);
              successes.push({ client, value: written.body.estimatedCost, version: written.body.version });
              done++;
            }
          }),
        );

        // Each acknowledged increment wrote a value and a version no other one did.
        expect(successes.map((s) => s.value).sort((a, b) => a - b)).toEqual(range(TOTAL, 1));
        expect(successes.map((s) => s.version).sort((a, b) => a - b)).toEqual(range(TOTAL, 2));
        for (const s of successes) expect(s.version).toBe(s.value + 1);

        for (const app of processes) {
          const final = await call(app, 'GET', `/permits/${id}`, { user: ADMIN });
          expect(final.body).toEqual(expect.objectContaining({ estimatedCost: TOTAL, version: TOTAL + 1 }));
        }

        const audit = await call(processes[1]!, 'GET', `/permits/${id}/audit`, { user: ADMIN });
        expect(audit.status).toBe(200);
        expect(audit.body.items.map((entry: { action: string; version: number }) => [entry.action, entry.version])).toEqual([
          ['create', 1],
          ...range(TOTAL, 2).map((version) => ['update', version]),
        ]);
        for (const entry of audit.body.items.slice(1)) {
          expect(entry.changes).toEqual({ estimatedCost: { from: entry.version - 2, to: entry.version - 1 } });
        }

        const history = await call(processes[PROCESSES - 1]!, 'GET', `/permits/${id}/history`, { user: ADMIN });
        expect(history.body.fields.estimatedCost.map((entry: { value: number; version: number }) => [entry.value, entry.version])).toEqual(
          range(Math.min(KEPT_VERSIONS, TOTAL + 1)).map((back) => [TOTAL - back, TOTAL + 1 - back]),
        );

        await Promise.all(processes.map((app) => stopSample(app)));
        processes = [];
        await withSampleStore(dataPath, (storage) => {
          expect(storage.verify().problems).toEqual([]);
          const events = storage.events(0, TOTAL + 10);
          // A 412 leaves nothing behind: the log holds the create and one event per acknowledged increment.
          expect(events.map((event) => [event.id, event.type, event.version])).toEqual([
            [id, 'created', 1],
            ...range(TOTAL, 2).map((version) => [id, 'updated', version]),
          ]);
        });
        console.warn(`if-match increments: ${PROCESSES} processes, ${CLIENTS} clients, ${TOTAL} increments, ${conflicts} answers of 412 retried, lost: 0`);
      } finally {
        await Promise.all(processes.map((app) => stopSample(app)));
        dir.remove();
      }
    },
    90_000 + TOTAL * 500,
  );
});
