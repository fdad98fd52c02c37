import type { Logger } from '@nestjs/common';
import type { EventRetention } from '../common/storage-options.interface.js';
import type { EventLog } from './event-log.store.js';
import type { IdempotencyStore } from './idempotency.store.js';
import type { MaintenanceResult } from './maintenance-result.interface.js';

export const DEFAULT_MAINTENANCE_INTERVAL = 60 * 60 * 1000;

/** Forgets expired idempotency keys and drops events past `retention`; runs inside a write transaction. */
export function purgeExpired(idempotency: IdempotencyStore, log: EventLog, now: number, retention: EventRetention | undefined): MaintenanceResult {
  return {
    idempotencyKeys: idempotency.purge(now),
    events: retention ? log.compact(retention, now) : 0,
  };
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
