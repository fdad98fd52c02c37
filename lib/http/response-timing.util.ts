import type { ServerResponse } from 'node:http';
import type { RequestObserver } from '../telemetry/entities-metrics.service.js';

/** Times the request until its response is sent, into `observe`, with the status it got. */
export function timeResponse(response: object, observe: RequestObserver): void {
  const started = performance.now();
  // Express hands over its response, Fastify a reply around the Node response.
  const raw = ((response as { raw?: ServerResponse }).raw ?? response) as ServerResponse;
  raw.once('finish', () => observe(raw.statusCode, (performance.now() - started) / 1000));
}

/** The route template, e.g. `/permits/:id`, as labels show it (without any global prefix). */
export function routeOf(...paths: string[]): string {
  return `/${paths
    .map((path) => path.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;
}
