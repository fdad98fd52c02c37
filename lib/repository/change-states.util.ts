import type { EntityEvent, StoredRecord } from '../storage/entity-event.interface.js';
import { nextState } from '../storage/event-applier.util.js';

/** Records whose state a subscription keeps: past it, the longest unseen one is folded again from the log. */
const KEPT_RECORDS = 1000;

/** A record's state after the last event of it a subscription read, and the state a soft delete took away (which a restore brings back). */
interface Kept {
  state?: StoredRecord;
  deleted?: StoredRecord;
}

/**
 * The state each event of a subscription leaves (or, for a delete or a purge, takes away).
 * A subscription reads every event of its entity in log order, so the state it kept for a
 * record is the one before that record's next event: one step of `nextState` gives the next,
 * where folding the record's past from the log for every event cost the square of its
 * versions (seconds of a blocked event loop for a record with thousands).
 */
export class ChangeStates {
  private readonly kept = new Map<string, Kept>();

  /** The state `event` leaves or removes; `fold` reads it from the log when no state is kept (or `undefined`: none can be told). */
  stateOf(event: EntityEvent, fold: () => StoredRecord | undefined): StoredRecord | undefined {
    const removes = event.type === 'deleted' || event.type === 'purged';
    const kept = this.kept.get(event.id);
    // A purge removes a live record or a soft-deleted one, whichever the record was.
    const before = kept && (event.type === 'restored' ? kept.deleted : event.type === 'purged' ? (kept.state ?? kept.deleted) : kept.state);
    let state: StoredRecord | undefined;
    if (before || (kept && event.type === 'created')) state = removes ? before : nextState(before, event);
    else state = fold();
    this.kept.delete(event.id);
    if (state === undefined) return undefined;
    this.kept.set(event.id, removes ? { deleted: event.type === 'deleted' && event.soft ? state : undefined } : { state });
    if (this.kept.size > KEPT_RECORDS) this.kept.delete(this.kept.keys().next().value!);
    return state;
  }
}
