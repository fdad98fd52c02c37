import * as http from 'node:http';
import type { TestApp } from '../../support/test-app.util.js';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Listens on 127.0.0.1 (once) and answers the port. */
export async function portOf(t: TestApp): Promise<number> {
  const server = t.app.getHttpServer() as http.Server;
  if (!server.listening) await t.app.listen(0, '127.0.0.1');
  return (server.address() as { port: number }).port;
}

/** One request with exactly these headers and body bytes (supertest would re-encode a Buffer as JSON). */
export function rawRequest(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
