import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request a piece of work serves, carried across awaits. Entered by the generated
 * routes around their handler; read by log lines and spans deep in storage, which never see
 * the request object.
 */
const current = new AsyncLocalStorage<string>();

/** Runs `fn` (and everything it awaits) as work for the request with this id. */
export function runWithRequestId<R>(requestId: string, fn: () => R): R {
  return current.run(requestId, fn);
}

/** The id of the request being served, or `undefined` outside a request (start-up, maintenance, your own jobs). */
export function currentRequestId(): string | undefined {
  return current.getStore();
}
