import type { StorageFailureException } from '../storage/storage-failure.exception.js';
import { SeqNotAppliedException } from './seq-not-applied.exception.js';

/** A caller waiting until this instance has applied the message at `seq`. */
export interface SeqWaiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Adds to `waiters` one that resolves once `releaseWaiters` reaches `seq`; it fails with a
 * `SeqNotAppliedException` (503) if that has not happened within `timeout` ms.
 */
export function waitForSeq(waiters: Set<SeqWaiter>, seq: number, timeout: number, position: { readonly appliedSeq: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const waiter: SeqWaiter = {
      seq,
      resolve: () => {
        clearTimeout(timer);
        resolve();
      },
      reject: (error) => {
        clearTimeout(timer);
        reject(error);
      },
    };
    if (Number.isFinite(timeout)) {
      timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new SeqNotAppliedException(seq, position.appliedSeq));
      }, timeout);
    }
    waiters.add(waiter);
  });
}

/** Resolves, and removes, the waiters for the message at `seq` or before it. */
export function releaseWaiters(waiters: Set<SeqWaiter>, seq: number): void {
  for (const waiter of waiters) {
    if (waiter.seq > seq) continue;
    waiters.delete(waiter);
    waiter.resolve();
  }
}

/** Fails every waiter with `error`: the messages they wait for will not be applied here. */
export function dropWaiters(waiters: Set<SeqWaiter>, error: StorageFailureException): void {
  for (const waiter of waiters) waiter.reject(error);
  waiters.clear();
}
