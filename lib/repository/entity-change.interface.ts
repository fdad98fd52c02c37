import type { EntityEvent } from '../storage/entity-event.interface.js';

/** One committed change as `EntityRepository.subscribe` and `GET /P/changes` deliver it. */
export interface EntityChange<R = Record<string, unknown>> {
  /** The event's seq in the log: resume after it with `afterSeq` (or SSE's `Last-Event-ID`). */
  seq: number;
  entity: string;
  id: string;
  type: EntityEvent['type'];
  version: number;
  at: string;
  /** On a `deleted` change that keeps the record among the deleted ones, to be restored; absent on a delete for good. */
  soft?: true;
  /** The record the change left, shaped for the subscriber; absent for `deleted` and `purged`, and when the log no longer holds that state. */
  record?: R;
}
