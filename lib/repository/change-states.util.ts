import type { EntityEvent, StoredRecord } from '../storage/entity-event.interface.js';
import { nextState } from '../storage/event-applier.util.js';

/** Records whose state a subscription catching up keeps: past it, a record whose state was let go is folded again from the log. */
const KEPT_RECORDS = 2_000;
/** How many reads of a caught-up subscription a record's state outlives when none of them changed the record. */
const KEPT_ROUNDS = 8;

/** A record's state after the last event of it a subscription read, and the state a soft delete took away (which a restore brings back). */
interface Kept {
  state?: StoredRecord;
  deleted?: StoredRecord;
  /** Where `ids` holds the record's id. */
  slot: number;
  /** The `caughtUp` round it was last kept in. */
  round: number;
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
  /** The ids `kept` holds, to let a random one go in constant time. */
  private readonly ids: string[] = [];
  /** Counts the calls to `caughtUp`. */
  private round = 0;

  /** The state `event` leaves or removes; `fold` reads it from the log when no state is kept (or `undefined`: none can be told). */
  stateOf(event: EntityEvent, fold: () => StoredRecord | undefined): StoredRecord | undefined {
    const removes = event.type === 'deleted' || event.type === 'purged';
    const kept = this.kept.get(event.id);
    // A purge removes a live record or a soft-deleted one, whichever the record was.
    const before = kept && (event.type === 'restored' ? kept.deleted : event.type === 'purged' ? (kept.state ?? kept.deleted) : kept.state);
    let state: StoredRecord | undefined;
    if (before || (kept && event.type === 'created')) state = removes ? before : nextState(before, event);
    else state = fold();
    if (state === undefined) {
      this.letGo(event.id);
      return undefined;
    }
    if (removes) this.keep(event.id, undefined, event.type === 'deleted' && event.soft ? state : undefined);
    else this.keep(event.id, state, undefined);
    return state;
  }

  /**
   * Called after each read of a caught-up subscription that held changes of its entity: lets go
   * the states of records none of the last KEPT_ROUNDS such reads changed. A change read as it
   * happens is mostly its record's current state, which the log answers at once; but of two
   * changes made between two reads the first is a past one, and a record changed again and again
   * would otherwise be folded from its whole log time after time.
   */
  caughtUp(): void {
    this.round++;
    for (const id of [...this.ids]) if (this.round - this.kept.get(id)!.round > KEPT_ROUNDS) this.letGo(id);
  }

  /**
   * A full store lets a random record go rather than the longest unseen: records changed in
   * turn, more of them than are kept, would otherwise each be let go just before its next
   * change, and every change would fold its record's past again.
   */
  private keep(id: string, state: StoredRecord | undefined, deleted: StoredRecord | undefined): void {
    const kept = this.kept.get(id);
    if (kept) {
      kept.state = state;
      kept.deleted = deleted;
      kept.round = this.round;
      return;
    }
    if (this.ids.length >= KEPT_RECORDS) this.letGo(this.ids[Math.floor(Math.random() * this.ids.length)]!);
    this.kept.set(id, { state, deleted, slot: this.ids.length, round: this.round });
    this.ids.push(id);
  }

  private letGo(id: string): void {
    const kept = this.kept.get(id);
    if (!kept) return;
    const last = this.ids.pop()!;
    if (last !== id) {
      this.ids[kept.slot] = last;
      this.kept.get(last)!.slot = kept.slot;
    }
    this.kept.delete(id);
  }
}
