import type { PrincipalContext } from './principal-context.interface.js';

/** Options of `EntityRepository.subscribe`. */
export interface SubscribeOptions extends PrincipalContext {
  /** Deliver changes with a greater seq; default: the log's last seq, so only changes from now on. */
  afterSeq?: number;
  /** Ends the subscription: a pending `next()` resolves as done. */
  signal?: AbortSignal;
}
