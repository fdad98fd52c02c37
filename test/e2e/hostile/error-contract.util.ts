import type { Platform } from '../../support/test-app.util.js';
import type { RawResponse } from './raw-http.util.js';

/**
 * What is wrong with an error answer, or `undefined` when it keeps API.md's contract:
 * Nest's `{ statusCode, message, error }`. The one exception README documents: "Malformed
 * JSON and bodies over the platform's own limit are refused by the platform's body parser
 * before the package sees them (400/413; Fastify's answer has no `error` field)".
 */
export function errorShapeProblem(platform: Platform, response: RawResponse): string | undefined {
  const body = response.json as Record<string, unknown> | undefined;
  // README: Node refuses a request head over 16 KiB before Express sees it.
  if (platform === 'express' && response.status === 431) return undefined;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    return `${response.status} without a JSON error body`;
  }
  if (body.statusCode !== response.status) return `${response.status} whose statusCode is ${String(body.statusCode)}`;
  const message = body.message;
  const messageOk =
    (typeof message === 'string' && message.length > 0) ||
    (Array.isArray(message) && message.length > 0 && message.every((item) => typeof item === 'string' && item.length > 0));
  if (!messageOk) return `${response.status} without a message`;
  if (typeof body.error === 'string' && body.error.length > 0) return undefined;
  // README: the platforms' own body-parser answers (400, 413, 415) carry no `error` field.
  const documented = [400, 413, 415].includes(response.status) && !('error' in body);
  return documented ? undefined : `${response.status} without an error field (only the platforms' body-parser 400/413/415 are documented so)`;
}

/** The message of an error answer as one string. */
export function messageOf(response: RawResponse): string {
  const message = (response.json as { message?: unknown } | undefined)?.message;
  return Array.isArray(message) ? message.join('\n') : String(message);
}

interface Violation {
  count: number;
  example: string;
}

/** Broken promises, grouped by what broke, each with its first example; a run reports them all at once. */
export class ViolationLog {
  private readonly found = new Map<string, Violation>();

  add(problem: string, example: () => string): void {
    const known = this.found.get(problem);
    if (known) known.count += 1;
    else this.found.set(problem, { count: 1, example: example() });
  }

  get size(): number {
    return this.found.size;
  }

  /** One entry per problem: `<count>x <problem>` and its first example. */
  report(): string[] {
    return [...this.found].map(([problem, { count, example }]) => `${count}x ${problem}\n    e.g. ${example}`);
  }
}

/** A short, printable description of a request and its answer. */
export function describeExchange(
  request: { method: string; path: string; headers: Record<string, string>; body?: Buffer },
  response?: RawResponse | string,
): string {
  const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}...(${text.length} chars)` : text);
  const headers = Object.entries(request.headers)
    .map(([name, value]) => `${name}: ${clip(JSON.stringify(value), 60)}`)
    .join(', ');
  const body = request.body === undefined ? '' : ` body ${clip(JSON.stringify(request.body.toString('utf8')), 240)}`;
  const answer = response === undefined ? '' : typeof response === 'string' ? ` -> ${response}` : ` -> ${response.status} ${clip(response.text, 240)}`;
  return `${request.method} ${clip(request.path, 160)} [${headers}]${body}${answer}`;
}
