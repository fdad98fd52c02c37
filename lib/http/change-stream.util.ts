import { once } from 'node:events';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { EntityChange } from '../repository/entity-change.interface.js';

/** A comment line this often keeps proxies and load balancers from closing a quiet stream. */
const PING_MS = 15_000;

/** A Fastify reply, which the stream takes over from Fastify (`hijack`). */
interface FastifyReply {
  raw: ServerResponse;
  hijack(): void;
  getHeaders(): OutgoingHttpHeaders;
}

/**
 * Writes `changes` to the response as Server-Sent Events (`id: <seq>`, `event: change`, the
 * change as JSON in `data`), until the client goes away or the changes end. Once the headers
 * are out an error can no longer be an HTTP status: it goes out as an `error` event, and the
 * stream ends; the client reconnects with `Last-Event-ID` and gets the status then.
 */
export async function streamChanges(
  response: object,
  changes: AsyncIterableIterator<EntityChange>,
  abort: AbortController,
  /** Aborted when the app shuts down: a client that stopped reading must not hold the server's close. */
  shutdown: AbortSignal,
): Promise<void> {
  const fastify = typeof (response as Partial<FastifyReply>).hijack === 'function';
  const raw = fastify ? (response as FastifyReply).raw : (response as ServerResponse);
  // Headers the route set on Fastify's reply (X-Request-Id) would be lost with it.
  const set = fastify ? (response as FastifyReply).getHeaders() : {};
  if (fastify) (response as FastifyReply).hijack();
  raw.writeHead(200, {
    ...set,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.flushHeaders();
  // A HEAD answer has no body: it is over once its headers are out, and holds no subscription.
  if (raw.req?.method === 'HEAD') {
    abort.abort();
    raw.end();
    return;
  }
  const closed = once(raw, 'close').then(
    () => abort.abort(),
    () => abort.abort(),
  );
  // Removed when the stream ends: the signal outlives every stream of the app.
  let onShutdown = (): void => undefined;
  const ending = new Promise<void>((resolve) => {
    onShutdown = resolve;
    shutdown.addEventListener('abort', onShutdown, { once: true });
  });
  const ping = setInterval(() => raw.write(': ping\n\n'), PING_MS);
  ping.unref();
  try {
    for await (const change of changes) {
      if (raw.write(`id: ${change.seq}\nevent: change\ndata: ${JSON.stringify(change)}\n\n`)) continue;
      await Promise.race([once(raw, 'drain'), closed, ending]);
      if (shutdown.aborted) break;
    }
  } catch (error) {
    raw.write(`event: error\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`);
  } finally {
    clearInterval(ping);
    shutdown.removeEventListener('abort', onShutdown);
    abort.abort();
    // What a client does not read could never be flushed: the connection would stay open.
    if (shutdown.aborted && raw.writableNeedDrain) raw.destroy();
    else raw.end();
  }
}
