/** What one maintenance run removed. */
export interface MaintenanceResult {
  /** Idempotency keys past their time to live. */
  idempotencyKeys: number;
  /** Events past the retention policy. */
  events: number;
}
