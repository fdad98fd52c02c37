import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { InvalidQueryException } from '../query/invalid-query.exception.js';
import { AccessDeniedException } from './access-denied.exception.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import type { EntityEvent, StoredRecord } from '../storage/entity-event.interface.js';
import { PastStateGoneException } from '../storage/past-state-gone.exception.js';
import type { AccessDecision, AccessPolicy } from './access-policy.interface.js';
import type { EntityChange } from './entity-change.interface.js';
import { ChangeStates } from './change-states.util.js';
import { pastUnreadable } from './past-unreadable.util.js';
import { decisionOf, unreadableUnder } from './principal-access.util.js';
import { latestStateOf, pastOf } from './record-past.util.js';
import { toDeclaredRecord, toRecordView } from './record-view.util.js';
import { checkRepositoryOpen } from './repository-open.util.js';
import type { SubscribeOptions } from './subscribe-options.interface.js';

/** Log events a subscriber reads at a time. */
const CHANGE_BATCH = 500;

/** How long a subscriber catching up reads before it lets the event loop answer others. */
const TURN_MS = 10;

/** What a subscription reads from and how it shapes what it delivers. */
interface ChangeSource {
  storage: EntityStorage;
  access: AccessPolicy | undefined;
  definition: EntityDefinition;
  decision: AccessDecision | undefined;
  /** The record a change at `seq` made, as the subscriber sees it. */
  shape: (record: StoredRecord, seq: number) => Record<string, unknown>;
  states: ChangeStates;
  /**
   * For a resume whose caller may not read every past version: the last seq made before the
   * subscription, and whether a past version of the record with this id comes with `record`, as
   * `findAt` would answer it.
   */
  past?: { until: number; shown: (id: string) => boolean };
  /** Aborted once the app shuts down, or the store closes, after the subscription was made: it stays ended when the store opens again. */
  ending: AbortSignal;
}

/** `EntityRepository.subscribe`'s work: fails at once on a closed store or bad options, then delivers lazily. */
export function subscribeChanges(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  options: SubscribeOptions,
): AsyncIterableIterator<EntityChange> {
  checkRepositoryOpen(storage, definition);
  const decision = decisionOf(access, definition, options, 'read');
  const log = storage.log;
  storage.renewSnapshot();
  const after = options.afterSeq ?? log.lastSeq();
  if (!Number.isSafeInteger(after) || after < 0) throw new InvalidQueryException('afterSeq must be a whole number from 0');
  if (log.firstSeq() > after + 1) throw new PastStateGoneException(definition.name, `changes after seq ${after}`);
  // A replicated instance behind its stream waits for the seq; a store alone has no seq beyond
  // its log's end, except from a copy restored over a newer store, whose next seqs the
  // subscriber would take for ones it has seen.
  if (!storage.replication && after > log.lastSeq()) {
    throw new PastStateGoneException(
      definition.name,
      `changes after seq ${after}`,
      `cannot be told: the event log ends at seq ${log.lastSeq()} (a store restored from an older copy, or a seq of another store); read the current state again`,
    );
  }
  const madeBefore = log.lastSeq();
  // A change made before the subscription may be from before a migration renamed its fields; a later one is under the names of now.
  const shape = (record: StoredRecord, seq: number) => {
    if (!('principal' in options)) return toDeclaredRecord(definition, record);
    const unreadable = unreadableUnder(access, definition, decision);
    return toRecordView(definition, record, seq <= madeBefore ? pastUnreadable(definition, unreadable) : unreadable);
  };
  // A resume replays versions since replaced: past values, which the history rule keeps to those it allows.
  const shown = after < madeBefore ? pastRuleOf(storage, access, definition, options) : undefined;
  const source: ChangeSource = {
    storage,
    access,
    definition,
    decision,
    shape,
    states: new ChangeStates(),
    past: shown && { until: madeBefore, shown },
    ending: storage.subscriptions.endSignal,
  };
  return changesAfter(source, after, options.signal);
}

/**
 * Which past versions a caller gets with `record`, as `findAt` answers them: none when the
 * history rule refuses it; for an owner or grantee, those of records that still exist and
 * that it may read now; `undefined` when every past version comes with `record`.
 */
function pastRuleOf(
  storage: EntityStorage,
  access: AccessPolicy | undefined,
  definition: EntityDefinition,
  options: SubscribeOptions,
): ((id: string) => boolean) | undefined {
  let history: AccessDecision | undefined;
  try {
    history = decisionOf(access, definition, options, 'history');
  } catch (error) {
    if (error instanceof AccessDeniedException) return () => false;
    throw error;
  }
  if (!history || history.entityWide) return undefined;
  const records = storage.tablesOf(definition).records;
  return (id) => {
    const live = records.get(id);
    return live !== undefined && access!.canRead(definition, history, live);
  };
}

async function* changesAfter(source: ChangeSource, after: number, signal?: AbortSignal): AsyncGenerator<EntityChange> {
  const { storage, definition, ending } = source;
  // Subscriptions end with the app (see `EntityStorage.subscriptions`), also one never iterated before.
  if (ending.aborted) return;
  let cursor = after;
  let grew = true;
  let wake: (() => void) | undefined;
  const nudge = () => {
    grew = true;
    wake?.();
  };
  const unwatch = storage.subscriptions.watch(nudge);
  signal?.addEventListener('abort', nudge);
  try {
    while (!signal?.aborted && !ending.aborted) {
      if (!grew) await new Promise<void>((resolve) => (wake = resolve));
      if (signal?.aborted || ending.aborted) return;
      grew = false;
      checkRepositoryOpen(storage, definition);
      storage.renewSnapshot();
      const events = storage.log.read(cursor, CHANGE_BATCH);
      // Trimmed while this subscriber was behind: what it missed cannot be told.
      if (events[0] && events[0].seq !== cursor + 1) throw new PastStateGoneException(definition.name, `changes after seq ${cursor}`);
      if (events.length === CHANGE_BATCH) grew = true;
      let turn = performance.now();
      let ours = false;
      for (const event of events) {
        // A subscriber far behind must not hold the process: other requests get their turns.
        if (performance.now() - turn > TURN_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          if (signal?.aborted || ending.aborted) return;
          turn = performance.now();
        }
        cursor = event.seq;
        if (event.entity !== definition.name) continue;
        ours = true;
        const change = changeOf(source, event);
        if (change) yield change;
        // The rest of a batch read before the app closed is not read from the closed store.
        if (signal?.aborted || ending.aborted) return;
      }
      if (ours && events.length < CHANGE_BATCH) source.states.caughtUp();
    }
  } finally {
    unwatch();
    signal?.removeEventListener('abort', nudge);
  }
}

/** An event as a subscriber sees it, or none when its principal may not read the record at that version. */
function changeOf({ storage, access, definition, decision, shape, states, past }: ChangeSource, event: EntityEvent): EntityChange | undefined {
  // For a delete or a purge, the state it removed; otherwise the one it made.
  const state = states.stateOf(event, () => {
    try {
      return pastOf(storage, access, definition, event.id, { version: event.version }, undefined);
    } catch (error) {
      if (!(error instanceof PastStateGoneException)) throw error;
      return undefined;
    }
  });
  if (decision && !decision.entityWide) {
    // Whom a record is for does not change with its versions (its owner is kept, grants name its
    // id), so when the log no longer holds this state, the record as it is now decides.
    const judged = state ?? latestStateOf(storage, definition, event.id);
    if (!judged || !access!.canRead(definition, decision, judged)) return undefined;
  }
  const removes = event.type === 'deleted' || event.type === 'purged';
  return {
    seq: event.seq,
    entity: event.entity,
    id: event.id,
    type: event.type,
    version: event.version,
    at: event.at,
    ...(event.soft && { soft: true }),
    ...(!removes && state && (!past || event.seq > past.until || past.shown(event.id)) && { record: shape(state, event.seq) }),
  };
}
