import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import { demoPrincipal } from '../../../sample/demo-principal.util.js';
import { Permit } from '../../../sample/permit.entity.js';
import { ADMIN } from '../../support/sample-process.util.js';
import { createTestApp, PLATFORMS, type TestApp } from '../../support/test-app.util.js';
import { watchAckOrder } from './ack-order.util.js';

/** 2xx answers to writes per platform; `ACK_WRITES` raises it for a longer run. */
const WRITES = Number(process.env.ACK_WRITES ?? 2_500);
const CLIENTS = 12;

type Kind = 'POST' | 'batch' | 'PATCH' | 'DELETE';

/**
 * API.md, Durability: a write answered 2xx is on disk. The app runs in-process so both
 * ends can be watched: lmdb's report that a transaction is flushed, and the 2xx leaving
 * for the socket. Concurrent clients create (some with idempotency keys), create in
 * batches, update with If-Match and delete; every 2xx must come after its flush.
 */
describe.each(PLATFORMS)('acknowledgements on %s', (platform) => {
  let t: TestApp | undefined;

  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it(`sends no 2xx for a write before the change is flushed, over ${WRITES} writes from ${CLIENTS} clients`, async () => {
    t = await createTestApp({ entities: [Permit], platform, module: { getPrincipal: demoPrincipal, roles: { admin: ['*'] } } });
    await t.app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${((t.app.getHttpServer() as Server).address() as AddressInfo).port}`;
    const watch = watchAckOrder(t.app);
    const answered: Record<Kind, number> = { POST: 0, batch: 0, PATCH: 0, DELETE: 0 };
    const unexpected: string[] = [];
    let sent = 0;
    let serial = 0;

    const send = async (kind: Kind, method: string, path: string, expected: number, body?: unknown, headers: Record<string, string> = {}) => {
      sent++;
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { 'x-user': ADMIN, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (response.status !== expected) {
        unexpected.push(`${kind} ${path}: ${response.status} ${text}`);
        return undefined;
      }
      answered[kind]++;
      return { body: text === '' ? undefined : JSON.parse(text) };
    };

    const client = async (id: number) => {
      const mine: { id: string; version: number }[] = [];
      const permit = () => ({ number: `ACK-${id}-${serial++}`, client: `client-${id}`, county: 'Travis' });
      while (sent < WRITES && unexpected.length === 0) {
        const roll = Math.random();
        if (mine.length < 3 || roll < 0.3) {
          const key = roll < 0.15 ? { 'idempotency-key': `ack-${id}-${serial}` } : undefined;
          const created = await send('POST', 'POST', '/permits', 201, permit(), key);
          if (created) mine.push({ id: created.body.id, version: created.body.version });
        } else if (roll < 0.4) {
          const created = await send('batch', 'POST', '/permits/batch', 201, [permit(), permit(), permit()]);
          for (const record of created?.body ?? []) mine.push({ id: record.id, version: record.version });
        } else {
          const index = Math.floor(Math.random() * mine.length);
          const record = mine[index]!;
          const ifMatch = { 'if-match': `"${record.version}"` };
          if (roll < 0.85) {
            const updated = await send('PATCH', 'PATCH', `/permits/${record.id}`, 200, { client: `patched-${serial++}` }, ifMatch);
            if (updated) record.version = updated.body.version;
          } else {
            await send('DELETE', 'DELETE', `/permits/${record.id}`, 204, undefined, ifMatch);
            mine.splice(index, 1);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, id) => client(id)));
    const order = watch.report();
    watch.stop();

    expect(unexpected).toEqual([]);
    const total = Object.values(answered).reduce((sum, count) => sum + count, 0);
    console.warn(
      `acknowledgements on ${platform}: 2xx before flush: ${order.beforeFlush.length} of ${order.acknowledged} ` +
        `(POST ${answered.POST}, batch ${answered.batch}, PATCH ${answered.PATCH}, DELETE ${answered.DELETE}; ${order.flushes} flushed transactions; ` +
        `${order.coveredByLaterFlush} answered once a later transaction's flush was reported, before their own)`,
    );
    expect(order.acknowledged).toBe(total);
    expect(total).toBeGreaterThanOrEqual(WRITES);
    expect(Math.min(...Object.values(answered))).toBeGreaterThan(0);
    expect(order.beforeFlush.slice(0, 10)).toEqual([]);
    expect(t.app.get(EntityStorage).verify().problems).toEqual([]);
  }, 120_000);
});
