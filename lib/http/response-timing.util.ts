import type { ServerResponse } from 'node:http';
import type { RequestObserver } from '../telemetry/entities-metrics.service.js';

/** Set on a response once it is timed: `EntityRequestGuard` as a global guard times a generated route's request before its handler would. */
const TIMED = Symbol('nestjs-declarative-entities timed');

/** Times the request until its response is sent, into `observe`, with the status it got; once per response. */
export function timeResponse(response: object, observe: RequestObserver): void {
  // Express hands over its response, Fastify a reply around the Node response.
  const raw = ((response as { raw?: ServerResponse }).raw ?? response) as ServerResponse & { [TIMED]?: true };
  if (raw[TIMED]) return;
  raw[TIMED] = true;
  const started = performance.now();
  raw.once('finish', () => observe(raw.statusCode, (performance.now() - started) / 1000));
}

/** The route template, e.g. `/permits/:id`, as labels show it (without any global prefix). */
export function routeOf(...paths: string[]): string {
  return `/${paths
    .map((path) => path.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;
}
