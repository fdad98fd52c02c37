import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';

/** One answer as it came off the wire. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  json: unknown;
}

export interface RawRequest {
  method: string;
  /** Sent exactly as given: no normalization, no encoding. */
  path: string;
  headers?: Record<string, string>;
  /** A string is sent as its UTF-8 bytes, untouched; JSON.stringify it first for a JSON body. */
  body?: string | Buffer;
}

/** A client for an app listening on 127.0.0.1, with a deadline per request. */
export interface RawClient {
  send(req: RawRequest): Promise<RawResponse>;
  close(): void;
}

export class RequestTimeoutError extends Error {}

/** How long an event stream is read before the client hangs up. */
const STREAM_SAMPLE_MS = 100;

/**
 * Listens on a free port of 127.0.0.1 and returns a keep-alive client that sends bytes
 * exactly as written (supertest would re-encode paths and bodies), failing any request
 * that gets no complete answer within `timeoutMs`.
 */
export async function listenRaw(app: INestApplication, timeoutMs: number): Promise<RawClient> {
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const sendOnce = (req: RawRequest): Promise<RawResponse> =>
    new Promise<RawResponse>((resolve, reject) => {
      const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
      const headers: Record<string, string | number> = { ...req.headers };
      if (body !== undefined) headers['content-length'] ??= body.length;
      const outgoing = request({ host: '127.0.0.1', port, agent, method: req.method, path: req.path, headers }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        // An event stream never ends by itself: what it sends in a moment is its answer.
        if (String(incoming.headers['content-type']).startsWith('text/event-stream')) {
          setTimeout(() => {
            outgoing.destroy();
            incoming.emit('end');
          }, STREAM_SAMPLE_MS);
        }
        incoming.once('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, text, json });
        });
      });
      const timer = setTimeout(() => {
        outgoing.destroy();
        reject(new RequestTimeoutError(`${req.method} ${req.path.slice(0, 200)} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      outgoing.on('error', (error) => {
        clearTimeout(timer);
        reject(Object.assign(error, { reusedSocket: outgoing.reusedSocket }));
      });
      outgoing.end(body);
    });
  return {
    send: async (req) => {
      try {
        return await sendOnce(req);
      } catch (error) {
        // A kept-alive socket the server had already closed (after a 431, say): Node's documented case for one retry.
        if ((error as { reusedSocket?: boolean }).reusedSocket && (error as { code?: string }).code === 'ECONNRESET') return sendOnce(req);
        throw error;
      }
    },
    close: () => agent.destroy(),
  };
}
