import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { permitData } from '../permit-data.util.js';

/** What the HTTP suite asks a load run for (JSON in argv[2]). */
export interface LoadSpec {
  url: string;
  scenario: 'get' | 'list' | 'post' | 'patch';
  connections: number;
  seconds: number;
  /** `<dir>/ids.json` of the server's store. */
  idsFile: string;
}

/** What a load run reports (JSON on stdout). */
export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Answers other than 2xx, socket errors and timeouts. */
  failures: number;
  total: number;
}

/**
 * autocannon against one server, in a process of its own so that the load generator does not
 * share an event loop with what it measures.
 */
const spec = JSON.parse(process.argv[2]!) as LoadSpec;
const ids = JSON.parse(readFileSync(spec.idsFile, 'utf8')) as string[];
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;
let serial = 0;
const random = (n: number) => Math.floor(Math.random() * n);
const json = { 'content-type': 'application/json' };

let requests: autocannon.Request[];
if (spec.scenario === 'get') {
  requests = [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/bench-permits/${ids[random(ids.length)]}` }) }];
} else if (spec.scenario === 'list') {
  requests = [
    {
      method: 'GET',
      setupRequest: (req) => {
        const { client, county } = permitData(random(200));
        return { ...req, path: `/bench-permits?client=${client}&county=${county}&limit=50` };
      },
    },
  ];
} else if (spec.scenario === 'post') {
  requests = [
    {
      method: 'POST',
      path: '/bench-permits',
      headers: json,
      setupRequest: (req) => ({ ...req, body: JSON.stringify(permitData(serial++, `${run}-`)) }),
    },
  ];
} else {
  // Each request takes a record nobody else has in flight and puts it back with the version its answer names.
  const free = await currentVersions(ids.slice(0, Math.max(spec.connections * 4, 100)));
  requests = [
    {
      method: 'PATCH',
      setupRequest: (req, context: { entry?: { id: string; version: number } }) => {
        const entry = free.pop()!;
        context.entry = entry;
        return {
          ...req,
          path: `/bench-permits/${entry.id}`,
          headers: { ...json, 'if-match': `"${entry.version}"` },
          body: JSON.stringify({ amount: serial++ % 100_000 }),
        };
      },
      onResponse: (status, _body, context: { entry?: { id: string; version: number } }, headers) => {
        const entry = context.entry!;
        const etag = (headers as Record<string, string> | undefined)?.etag ?? (headers as Record<string, string> | undefined)?.ETag;
        if (status === 200 && etag) entry.version = Number(/\d+/.exec(etag)?.[0]);
        free.unshift(entry);
      },
    },
  ];
}

const result = await autocannon({ url: spec.url, connections: spec.connections, duration: spec.seconds, requests, timeout: 10 });
const successes = result['2xx'] ?? 0;
const output: LoadResult = {
  requestsPerSecond: successes / (result.duration || spec.seconds),
  p50: result.latency.p50,
  p99: result.latency.p99,
  failures: result.non2xx + result.errors + result.timeouts,
  total: result.requests.total,
};
process.stdout.write(`${JSON.stringify(output)}\n`);

async function currentVersions(sample: string[]): Promise<{ id: string; version: number }[]> {
  return Promise.all(
    sample.map(async (id) => {
      const response = await fetch(`${spec.url}/bench-permits/${id}`);
      await response.arrayBuffer();
      return { id, version: Number(/\d+/.exec(response.headers.get('etag') ?? '1')?.[0]) };
    }),
  );
}
