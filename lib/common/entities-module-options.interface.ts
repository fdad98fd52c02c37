import type { EntityCacheOptions } from './entity-cache-options.interface.js';
import type { EntitiesHealthOptions } from './health-options.interface.js';
import type { EntitiesMetricsOptions } from './metrics-options.interface.js';
import type { EventRetention, LmdbTuning } from './storage-options.interface.js';
import type { Principal } from './principal.interface.js';
import type { ReplicationOptions } from './replication-options.interface.js';

/** Options of `EntitiesModule.forRoot()`. */
export interface EntitiesModuleOptions {
  /** LMDB directory; created if missing. Default `'./data'`. */
  path?: string;
  /**
   * Finds the principal of a request. May return a Promise. Default: `req.user`, the
   * Passport convention (on Fastify, also one a Nest middleware set, which lands on `req.raw`).
   * Return `undefined` for an anonymous request.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- `unknown` would refuse the typed callbacks users write (`(req: Request) => ...`).
  getPrincipal?: (request: any) => Principal | undefined | null | Promise<Principal | undefined | null>;
  /** Permission strings granted by each role, e.g. `{ clerk: ['permits:read'], admin: ['*'] }`. Default `{}`. */
  roles?: Record<string, readonly string[]>;
  /** `true`: an entity without `@Permission` answers 403 to everyone. Default `false`. */
  requirePermissions?: boolean;
  /** Largest accepted request body in bytes; larger ones get 413. Default 1 MiB (1,048,576). */
  maxBodyBytes?: number;
  /** How long an `Idempotency-Key` is remembered, in milliseconds. Default 24 hours. */
  idempotencyTtl?: number;
  /**
   * Seals list cursors (`nextCursor`) with a key derived from this secret (at least 32 bytes)
   * instead of the random key each store keeps, so that instances on different data
   * directories, behind one load balancer, accept each other's cursors. Cursors sealed
   * before the secret was set (or changed) get 400; those of pages in `id` order are not
   * sealed (the id they hold is on the page) and go on anywhere. Default: the store's own key.
   */
  cursorSecret?: string | Uint8Array;
  /** How much of the event log to keep. Default: all of it (needed to replay a store from scratch). */
  eventRetention?: EventRetention;
  /**
   * When stored records go through their entities' `@Entity({ migrations })`: `'on-start'`
   * (default) as the store opens, before the app serves; `'manual'` only by the `migrate`
   * command, the app refusing to start while records wait for a step. README, "Schema evolution".
   */
  migrate?: 'on-start' | 'manual';
  /**
   * Keeps several instances, each on its own data directory, equal through one NATS JetStream
   * stream (README, "Several instances"). Needs `@nats-io/transport-node` and
   * `@nats-io/jetstream`. Default: off, every write commits to this directory alone.
   */
  replication?: ReplicationOptions;
  /** Largest `POST /P/batch` (and `createMany`), in records. Default 1000. */
  maxBatchSize?: number;
  /** Caching of reads (`GET /P/:id`, `GET /P`, history) for `@Cached` entities. Default: in memory, 60 s. */
  cache?: EntityCacheOptions;
  /** lmdb environment settings (`mapSize`, `pageSize`, `maxReaders`). Durability options are not offered. */
  lmdb?: LmdbTuning;
  /**
   * Prometheus metrics (requests, storage timings, cache, log length, map usage) through
   * `prom-client`, an optional peer dependency, and an opt-in route. Default: off.
   */
  metrics?: EntitiesMetricsOptions;
  /**
   * A `find` (and so a `GET /P`) taking at least this many milliseconds is logged as a
   * warning that names the plan the query planner chose; `false` never warns. Default 500.
   */
  slowQueryMs?: number | false;
  /**
   * OpenTelemetry spans per repository operation and write transaction, through
   * `@opentelemetry/api` (an optional peer dependency; spans record once your app registers
   * a tracer provider, e.g. the Node SDK). Default: on when `@opentelemetry/api` is
   * installed; `true` makes start-up fail without it, `false` turns spans off.
   */
  tracing?: boolean;
  /**
   * How the generated routes make the request's id known to the code serving it
   * (`currentRequestId()`, the package's log lines and spans, audit entries of repository writes).
   * - `'auto'` (default): an `AsyncLocalStorage` context only while spans record; otherwise the
   *   id is held for each synchronous stretch of the route's own code, which is where the
   *   package reads it (an operation reads it as it starts), so log lines, spans and audit
   *   entries still carry it. Your code sees it until its first `await` in the route's work.
   * - `true`: always the `AsyncLocalStorage` context, so `currentRequestId()` answers across
   *   awaits (in an async `getPrincipal`, say). Entering one makes Node 20 run promise hooks on
   *   every promise of the process, which costs the generated routes a few percent of their
   *   throughput (BENCHMARKS.md, "The request context").
   * - `false`: neither; the `X-Request-Id` header and the audit entries still carry the id.
   */
  requestContext?: boolean | 'auto';
  /** Thresholds of `EntitiesHealthIndicator`. */
  health?: EntitiesHealthOptions;
}
