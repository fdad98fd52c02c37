import fc from 'fast-check';
import type { EntityEvent, StoredRecord } from '../../../lib/storage/entity-event.interface.js';
import { pastRecord, type PastRecord } from '../../../lib/storage/past-record.util.js';

type Op =
  | { kind: 'update'; patch: Record<string, string | null> }
  | { kind: 'replace'; data: Record<string, string> }
  | { kind: 'delete'; soft: boolean }
  | { kind: 'restore' }
  | { kind: 'purge' };

const ID = '01J00000000000000000000000';
const value = fc.constantFrom('x', 'y', 'z');
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('update' as const), patch: fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.option(value, { nil: null }), { minKeys: 1 }) }),
  fc.record({ kind: fc.constant('replace' as const), data: fc.record({ a: value, b: value }) }),
  fc.record({ kind: fc.constant('delete' as const), soft: fc.boolean() }),
  fc.constant({ kind: 'restore' as const }),
  fc.constant({ kind: 'purge' as const }),
);

/**
 * A model of one record's life written without the package's code: the events the store would
 * log for `ops` (those that make sense at that point), each with the state it leaves, and the
 * times they carry (steps of 0 or more milliseconds, so several may share one).
 */
function lifeOf(ops: Op[], steps: number[]): { events: EntityEvent[]; states: (StoredRecord | undefined)[]; createdAt?: string } {
  const events: EntityEvent[] = [];
  const states: (StoredRecord | undefined)[] = [];
  let time = Date.parse('2026-01-01T00:00:00.000Z');
  const createdAt = new Date(time).toISOString();
  let live: Record<string, unknown> | undefined = { id: ID, version: 1, createdAt, updatedAt: createdAt, a: 'x' };
  let trashed: Record<string, unknown> | undefined;
  let version = 1;
  const push = (event: Omit<EntityEvent, 'seq' | 'eventId' | 'entity' | 'id'>, state: Record<string, unknown> | undefined) => {
    events.push({ seq: events.length + 1, eventId: `e${events.length}`, entity: 'things', id: ID, ...event });
    states.push(state && ({ ...state } as StoredRecord));
  };
  push({ type: 'created', version: 1, at: createdAt, data: { a: 'x' } }, { id: ID, version: 1, createdAt, updatedAt: createdAt, a: 'x' });
  ops.forEach((next, i) => {
    time += steps[i % steps.length]!;
    const at = new Date(time).toISOString();
    if (next.kind === 'update' && live) {
      const changed: Record<string, unknown> = { ...live, version: ++version, updatedAt: at };
      for (const [field, v] of Object.entries(next.patch))
        if (v === null) delete changed[field];
        else changed[field] = v;
      live = changed;
      push({ type: 'updated', version, at, data: next.patch }, live);
    } else if (next.kind === 'replace' && live) {
      live = { id: ID, version: ++version, createdAt, updatedAt: at, ...next.data };
      push({ type: 'replaced', version, at, data: next.data }, live);
    } else if (next.kind === 'delete' && live) {
      trashed = next.soft ? live : undefined;
      live = undefined;
      push({ type: 'deleted', version, at, ...(next.soft && { soft: true as const }) }, undefined);
    } else if (next.kind === 'restore' && trashed) {
      live = { ...trashed, version: ++version, updatedAt: at };
      trashed = undefined;
      push({ type: 'restored', version, at }, live);
    } else if (next.kind === 'purge' && trashed) {
      trashed = undefined;
      push({ type: 'purged', version, at }, undefined);
    }
  });
  // The store knows createdAt from the record while it is live or deleted softly, not once it is gone.
  return { events, states, ...((live || trashed) && { createdAt }) };
}

/** The model's answer: the live state reaching `version` first, or the state after the last event at or before `asOf`. */
function modelAt(life: ReturnType<typeof lifeOf>, point: { version: number } | { asOf: string }): PastRecord {
  if ('version' in point) {
    const state = life.states.find((candidate) => candidate?.version === point.version);
    return state ? { kind: 'found', record: state } : { kind: 'absent' };
  }
  let state: StoredRecord | undefined;
  life.events.forEach((event, i) => {
    if (event.at <= point.asOf) state = life.states[i];
  });
  return state ? { kind: 'found', record: state } : { kind: 'absent' };
}

function pointsOf(life: ReturnType<typeof lifeOf>): ({ version: number } | { asOf: string })[] {
  const versions = Math.max(...life.events.map((event) => event.version)) + 1;
  const times = life.events.flatMap((event) => [event.at, new Date(Date.parse(event.at) - 1).toISOString(), new Date(Date.parse(event.at) + 1).toISOString()]);
  return [...Array.from({ length: versions }, (_, i) => ({ version: i + 1 })), ...times.map((asOf) => ({ asOf }))];
}

describe('a record as it was, read from its events', () => {
  it('is what the model says at every version and every time, with the whole log', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 5 }), (ops, steps) => {
        const life = lifeOf(ops, steps);
        for (const point of pointsOf(life)) {
          expect({ point, past: pastRecord(life.events, point, life.createdAt) }).toEqual({ point, past: modelAt(life, point) });
          expect({ point, past: pastRecord(life.events, point) }).toEqual({ point, past: modelAt(life, point) });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is the same or "gone", never another state, once the retention policy dropped the oldest events', () => {
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 1, maxLength: 25 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        (ops, steps, cut) => {
          const life = lifeOf(ops, steps);
          const dropped = 1 + (cut % life.events.length);
          const kept = life.events.slice(dropped);
          for (const point of pointsOf(life)) {
            const past = pastRecord(kept, point, life.createdAt);
            // A record gone from the store, none of its events left: as if it never was.
            const unknowable = kept.length === 0 && life.createdAt === undefined;
            if (unknowable) expect(past).toEqual({ kind: 'absent' });
            else if (past.kind !== 'gone') expect({ point, past }).toEqual({ point, past: modelAt(life, point) });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers a state it can still tell after the cut: every version from the first whole state on', () => {
    const life = lifeOf(
      [
        { kind: 'update', patch: { b: 'y' } },
        { kind: 'replace', data: { a: 'z', b: 'z' } },
        { kind: 'update', patch: { a: 'y' } },
      ],
      [1],
    );
    const kept = life.events.slice(2);
    const createdAt = life.createdAt!;
    expect(pastRecord(kept, { version: 1 }, createdAt)).toEqual({ kind: 'gone' });
    expect(pastRecord(kept, { version: 2 }, createdAt)).toEqual({ kind: 'gone' });
    expect(pastRecord(kept, { version: 3 }, createdAt)).toEqual({ kind: 'found', record: expect.objectContaining({ a: 'z', b: 'z', version: 3, createdAt }) });
    expect(pastRecord(kept, { version: 4 }, createdAt)).toEqual({ kind: 'found', record: expect.objectContaining({ a: 'y', b: 'z', version: 4, createdAt }) });
    expect(pastRecord(kept, { version: 5 }, createdAt)).toEqual({ kind: 'absent' });
    // Without the record's createdAt (it is gone from the store), nothing before the cut's end can be told.
    expect(pastRecord(kept, { version: 3 })).toEqual({ kind: 'gone' });
  });
});
