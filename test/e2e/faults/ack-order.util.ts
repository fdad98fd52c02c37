import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { RootDatabase } from 'lmdb';
import { EntityStorage } from '../../../lib/index.js';
import type { EntityEvent } from '../../../lib/storage/entity-event.interface.js';

/** What the watch saw: 2xx answers to writes, and those sent before their change was flushed. */
export interface AckOrder {
  acknowledged: number;
  /** Transactions whose flush lmdb reported. */
  flushes: number;
  /** `METHOD url key` of each 2xx that went out before the change it carries was flushed. */
  beforeFlush: string[];
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
 */
export function watchAckOrder(app: INestApplication): { report: () => AckOrder; stop: () => void } {
  const storage = app.get(EntityStorage);
  const root = (storage.environment as unknown as { root: RootDatabase }).root;
  const server = app.getHttpServer() as Server;
  const order: AckOrder = { acknowledged: 0, flushes: 0, beforeFlush: [] };
  const durableAt = new Map<string, number>();
  let clock = 0;

  const childTransaction = root.childTransaction;
  root.childTransaction = function <T>(this: RootDatabase, action: () => T): Promise<T> {
    const keys: string[] = [];
    const observed = (): T => {
      const before = storage.log.lastSeq();
      const result = action();
      // Inside the transaction, reads see its own appends: these are the events it commits.
      for (const event of storage.log.read(before, BATCH_EVENTS)) keys.push(eventKey(event));
      return result;
    };
    const committed = childTransaction.call(this, observed) as Promise<T>;
    // `flushed.then` is called synchronously, while this transaction is the newest one
    // queued, so it waits for the flush of the commit that carries it and no later one.
    root.flushed.then(
      () => {
        order.flushes++;
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
    const chunks: Buffer[] = [];
    const collect = (chunk: unknown) => {
      if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    };
    const writeHead = response.writeHead;
    response.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      headAt ??= ++clock;
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as typeof response.writeHead;
    const write = response.write;
    response.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      headAt ??= ++clock;
      collect(chunk);
      return (write as (...a: unknown[]) => boolean).apply(this, [chunk, ...rest]);
    } as typeof response.write;
    const end = response.end;
    response.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      headAt ??= ++clock;
      collect(chunk);
      if (response.statusCode >= 200 && response.statusCode < 300) {
        order.acknowledged++;
        for (const key of answerKeys(method, request.url ?? '', Buffer.concat(chunks).toString())) {
          const flushedAt = durableAt.get(key);
          if (flushedAt === undefined || flushedAt > headAt) order.beforeFlush.push(`${method} ${request.url} ${key}`);
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
