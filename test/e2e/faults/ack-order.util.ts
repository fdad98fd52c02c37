import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { RootDatabase } from 'lmdb';
import { EntityStorage } from '../../../lib/storage/entity-storage.store.js';
import type { EntityEvent } from '../../../lib/storage/entity-event.interface.js';

/** What the watch saw: 2xx answers to writes, and those sent before their change was flushed. */
export interface AckOrder {
  acknowledged: number;
  /** Transactions whose flush lmdb reported. */
  flushes: number;
  /** `METHOD url key` of each 2xx that went out before the change it carries was flushed. */
  beforeFlush: string[];
  /** 2xx that went out once a later transaction's flush was reported, before their own promise settled. */
  coveredByLaterFlush: number;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const BATCH_EVENTS = 100_000;

/** What a 2xx claims is stored: `<id>@<version>`, or `<id>:deleted`. */
function eventKey(event: EntityEvent): string {
  return event.type === 'deleted' ? `${event.id}:deleted` : `${event.id}@${event.version}`;
}

function answerKeys(method: string, url: string, body: string): string[] {
  if (method === 'DELETE') return [`${url.split('?')[0]!.split('/').pop()}:deleted`];
  const parsed: unknown = JSON.parse(body);
  const records = (Array.isArray(parsed) ? parsed : [parsed]) as { id?: unknown; version?: unknown }[];
  return records.map((record) => `${String(record.id)}@${String(record.version)}`);
}

/**
 * Watches an in-process app from both ends and orders what it sees on one counter: the
 * moment lmdb reports each transaction flushed to disk, and the moment each 2xx answer to a
 * write starts on its way to the socket. The flush side subscribes to lmdb's `flushed` when
 * the transaction is queued, independently of the package's own wait, so a package that
 * answers before its flush shows up here.
 *
 * A write counts as durable once its own flush, or the flush of any transaction queued
 * after it, was reported: LMDB syncs the whole file, so a sync that follows a later commit
 * covers every earlier one. lmdb-js settles its flush promises per write session, and a
 * later transaction's promise can settle a moment before an earlier one's (seen about once
 * in 20,000 writes); requiring the write's own promise made this suite fail now and then on
 * a durable write.
 */
export function watchAckOrder(app: INestApplication): { report: () => AckOrder; stop: () => void } {
  const storage = app.get(EntityStorage);
  const root = (storage.environment as unknown as { root: RootDatabase }).root;
  const server = app.getHttpServer() as Server;
  const order: AckOrder = { acknowledged: 0, flushes: 0, beforeFlush: [], coveredByLaterFlush: 0 };
  const durableAt = new Map<string, number>();
  /** Each write's transaction, numbered in the order they were queued. */
  const queuedAs = new Map<string, number>();
  let queued = 0;
  /** The highest queue number whose flush was reported: every transaction up to it is durable. */
  let durableThrough = 0;
  let clock = 0;

  const childTransaction = root.childTransaction;
  root.childTransaction = function <T>(this: RootDatabase, action: () => T): Promise<T> {
    const keys: string[] = [];
    const serial = ++queued;
    const observed = (): T => {
      const before = storage.log.lastSeq();
      const result = action();
      // Inside the transaction, reads see its own appends: these are the events it commits.
      for (const event of storage.log.read(before, BATCH_EVENTS)) {
        keys.push(eventKey(event));
        queuedAs.set(eventKey(event), serial);
      }
      return result;
    };
    const committed = childTransaction.call(this, observed) as Promise<T>;
    // `flushed.then` is called synchronously, while this transaction is the newest one
    // queued, so it waits for the flush of the commit that carries it and no later one.
    root.flushed.then(
      () => {
        order.flushes++;
        durableThrough = Math.max(durableThrough, serial);
        const at = ++clock;
        for (const key of keys) durableAt.set(key, at);
      },
      () => undefined,
    );
    return committed;
  };

  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const method = request.method ?? '';
    if (!WRITES.has(method)) return;
    let headAt: number | undefined;
    /** `durableThrough` when the answer started on its way. */
    let durableAtHead = 0;
    const markHead = () => {
      if (headAt !== undefined) return;
      headAt = ++clock;
      durableAtHead = durableThrough;
    };
    const chunks: Buffer[] = [];
    const collect = (chunk: unknown) => {
      if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    const writeHead = response.writeHead;
    response.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      markHead();
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as typeof response.writeHead;
    const write = response.write;
    response.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      markHead();
      collect(chunk);
      return (write as (...a: unknown[]) => boolean).apply(this, [chunk, ...rest]);
    } as typeof response.write;
    const end = response.end;
    response.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      markHead();
      collect(chunk);
      if (response.statusCode >= 200 && response.statusCode < 300) {
        order.acknowledged++;
        for (const key of answerKeys(method, request.url ?? '', Buffer.concat(chunks).toString())) {
          const flushedAt = durableAt.get(key);
          const serial = queuedAs.get(key);
          if (serial === undefined || serial > durableAtHead) {
            // Where on the watch's clock each end fell, so a failure tells a late flush from a missing one.
            order.beforeFlush.push(
              `${method} ${request.url} ${key} (answered at ${headAt} with transactions up to #${durableAtHead} flushed; its own, #${serial ?? '?'}, ${flushedAt === undefined ? 'not flushed yet' : `flushed at ${flushedAt}`})`,
            );
          } else if (flushedAt === undefined || flushedAt > headAt!) {
            order.coveredByLaterFlush++;
          }
        }
      }
      return (end as (...a: unknown[]) => ServerResponse).apply(this, [chunk, ...rest]);
    } as typeof response.end;
  };
  server.prependListener('request', onRequest);

  return {
    report: () => ({ ...order, beforeFlush: [...order.beforeFlush] }),
    stop: () => {
      server.removeListener('request', onRequest);
      root.childTransaction = childTransaction;
    },
  };
}
