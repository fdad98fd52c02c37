import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request a piece of work serves, carried across awaits. Entered by the generated
 * routes around their handler when asked to; read by log lines and spans deep in storage,
 * which never see the request object.
 */
const current = new AsyncLocalStorage<string>();

/**
 * The request whose code runs right now, without an `AsyncLocalStorage`: set by a generated
 * route around each synchronous stretch of its work. Entering a storage makes Node 20 run a
 * hook on every promise of the process, which costs every request a few percent of its
 * throughput; a plain variable costs nothing and still reaches every place the package reads
 * the id, because each reads it when an operation starts.
 */
let running: string | undefined;

/** Runs `fn` (and everything it awaits) as work for the request with this id. */
export function runWithRequestId<R>(requestId: string, fn: () => R): R {
  return current.run(requestId, fn);
}

/** Runs `fn` as work for the request with this id until it returns; what it awaits runs without it. */
export function runSynchronouslyAs<R>(requestId: string | undefined, fn: () => R): R {
  const outer = running;
  running = requestId;
  try {
    return fn();
  } finally {
    running = outer;
  }
}

/**
 * The id of the request being served, or `undefined` outside a request (start-up,
 * maintenance, your own jobs). In a generated route it answers across awaits only with
 * `forRoot({ requestContext: true })` (or while spans record); by default it answers until
 * the route's work first waits.
 */
export function currentRequestId(): string | undefined {
  return current.getStore() ?? running;
}
