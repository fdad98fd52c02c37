import type { Logger } from '@nestjs/common';
import type { EventRetention } from '../common/storage-options.interface.js';
import type { EventLog } from './event-log.store.js';
import type { IdempotencyStore } from './idempotency.store.js';
import type { MaintenanceResult } from './maintenance-result.interface.js';

export const DEFAULT_MAINTENANCE_INTERVAL = 60 * 60 * 1000;

/**
 * What one maintenance transaction removes at most of each kind: a backlog is worked off in
 * several, none holding the write lock long or every dropped event in memory.
 */
export const PURGE_BATCH = 10_000;

/** Forgets expired idempotency keys and drops events past `retention`, at most `PURGE_BATCH` of each; runs inside a write transaction. */
export function purgeExpired(idempotency: IdempotencyStore, log: EventLog, now: number, retention: EventRetention | undefined): MaintenanceResult {
  return {
    idempotencyKeys: idempotency.purge(now, PURGE_BATCH),
    events: retention ? log.compact(retention, now, PURGE_BATCH) : 0,
  };
}

/** Whether a maintenance transaction that removed `result` may have left more to remove. */
export function purgeMayGoOn(result: MaintenanceResult): boolean {
  return result.idempotencyKeys >= PURGE_BATCH || result.events >= PURGE_BATCH;
}

/** Runs `batch` up to `batches` times, fewer once it left nothing or `stopped()`; adds up what the runs removed. */
export async function maintainInBatches(batch: () => Promise<MaintenanceResult>, batches: number, stopped: () => boolean): Promise<MaintenanceResult> {
  const total: MaintenanceResult = { idempotencyKeys: 0, events: 0 };
  for (let run = 0, more = true; more && run < batches && !stopped(); run++) {
    const result = await batch();
    total.idempotencyKeys += result.idempotencyKeys;
    total.events += result.events;
    more = purgeMayGoOn(result);
  }
  return total;
}

/**
 * Runs `maintain` every `interval` ms. A failed run is logged, not thrown: nobody awaits the
 * timer, and the next run tries again. Unref'd, so it never keeps the process alive.
 */
export function scheduleMaintenance(maintain: () => Promise<unknown>, interval: number, logger: Logger): NodeJS.Timeout {
  const timer = setInterval(() => maintain().catch((error: Error) => logger.error(`maintenance failed: ${error.message}`)), interval);
  timer.unref();
  return timer;
}
