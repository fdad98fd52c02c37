import 'reflect-metadata';
import fc from 'fast-check';
import { Composite, Entity, Field, Historize, Index } from '../../../lib/index.js';
import type { FindQuery } from '../../../lib/query/find-query.interface.js';
import { RecordNotFoundException } from '../../../lib/storage/record-not-found.exception.js';
import { UniqueConstraintException } from '../../../lib/storage/unique-constraint.exception.js';
import { VersionConflictException } from '../../../lib/storage/version-conflict.exception.js';

/** The entity the model stands for: a unique index, a composite, and each history policy. */
@Entity('model-items')
@Composite(['group', 'rank'])
export class Item {
  @Field() @Index({ unique: true }) code!: string;
  @Field() @Historize('full') group!: string;
  @Field({ required: false }) @Index() @Historize({ versions: 2 }) rank?: number;
  @Field({ required: false }) note?: string;
}

export type Data = { code: string; group: string; rank?: number; note?: string };
export type Patch = { code?: string; group?: string; rank?: number | null; note?: string | null };
/** Which version a write demands: none, the current one, or one that is stale. */
export type Expectation = 'none' | 'current' | 'stale';
export type Where = NonNullable<FindQuery['where']>;

/** A well-formed id that no record ever gets. */
export const GHOST_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
const RANK_VERSIONS = 2;

// Small pools, so unique collisions, equal sort values and composite prefixes are common.
const codes = fc.constantFrom('a1', 'a2', 'b1', 'b2', 'c1');
const groups = fc.constantFrom('g1', 'g2', 'g3');
const ranks = fc.constantFrom(-1, 0, 2, 7);
const notes = fc.constantFrom('x', 'y');
export const actors = fc.option(fc.constantFrom('ann', 'ben'), { nil: undefined });
export const expectations = fc.constantFrom<Expectation>('none', 'none', 'current', 'stale');
export const data: fc.Arbitrary<Data> = fc.record({ code: codes, group: groups, rank: ranks, note: notes }, { requiredKeys: ['code', 'group'] });
export const patches: fc.Arbitrary<Patch> = fc.record({ code: codes, group: groups, rank: fc.option(ranks), note: fc.option(notes) }, { requiredKeys: [] });
export const wheres: fc.Arbitrary<Where> = fc.oneof(
  fc.constant({}),
  groups.map((group) => ({ group })),
  fc.tuple(groups, ranks).map(([group, rank]) => ({ group, rank: { gte: rank } })),
  fc.tuple(groups, ranks).map(([group, rank]) => ({ group, rank })),
  ranks.map((rank) => ({ rank: { lt: rank } })),
  ranks.map((rank) => ({ rank: { ne: rank } })),
  fc.constantFrom('a', 'b').map((prefix) => ({ code: { prefix } })),
  fc.subarray(['g1', 'g2', 'g3'], { minLength: 1 }).map((list) => ({ group: { in: list } })),
  codes.map((code) => ({ code })),
);
export const sorts = fc.constantFrom('id', '-id', 'rank', '-rank', 'group', '-group', 'code', '-code', 'version', '-version');
export const limits = fc.integer({ min: 1, max: 4 });

interface ModelRecord {
  data: Data;
  version: number;
}

interface HistoryEntry {
  value: unknown;
  version: number;
  actor?: string;
}

/** A stored record as the model expects it (managed times left out). */
export type Expected = Data & { id: string; version: number };

/** What a write must do: fail with this error, or succeed and leave this record. */
export type Plan<A extends unknown[] = []> = { error: new (...args: never[]) => Error } | { expected: (...args: A) => Expected; commit: (...args: A) => void };

/** A cursor walk in progress: its query and the position after the last record it returned. */
export interface Walk {
  where: Where;
  sort: string;
  limit: number;
  position?: { value: unknown; id: string };
  done: boolean;
}

/**
 * What the repository must hold after a sequence of writes, each applied in order: live
 * records, every id ever created, per-field history by policy, and an open cursor walk.
 */
export class ItemModel {
  readonly live = new Map<string, ModelRecord>();
  readonly ids: string[] = [];
  private readonly histories = new Map<string, { group: HistoryEntry[]; rank: HistoryEntry[] }>();
  walk?: Walk;

  /** The id a command's `target` picks: every id ever created, and one that never was. */
  idAt(target: number): string {
    const all = [...this.ids, GHOST_ID];
    return all[target % all.length]!;
  }

  expectedOf(id: string): Expected | null {
    const record = this.live.get(id);
    return record ? { id, version: record.version, ...record.data } : null;
  }

  planCreate(input: Data, actor?: string): Plan<[string]> {
    if (this.holderOf(input.code) !== undefined) return { error: UniqueConstraintException };
    return {
      expected: (id) => ({ id, version: 1, ...input }),
      commit: (id) => {
        this.ids.push(id);
        this.write(id, undefined, { ...input }, 1, actor);
      },
    };
  }

  planUpdate(id: string, patch: Patch, expectation: Expectation, actor?: string): Plan {
    const current = this.live.get(id);
    if (!current) return { error: RecordNotFoundException };
    if (expectation === 'stale') return { error: VersionConflictException };
    const next: Record<string, unknown> = { ...current.data };
    for (const [field, value] of Object.entries(patch)) {
      if (value === null) delete next[field];
      else next[field] = value;
    }
    const changed = Object.keys({ ...next, ...current.data }).some((field) => next[field] !== (current.data as Record<string, unknown>)[field]);
    if (!changed) return { expected: () => this.expectedOf(id)!, commit: () => undefined };
    if (this.holderOf(next['code'] as string, id) !== undefined) return { error: UniqueConstraintException };
    return {
      expected: () => ({ id, version: current.version + 1, ...(next as Data) }),
      commit: () => this.write(id, current.data, next as Data, current.version + 1, actor),
    };
  }

  planReplace(id: string, input: Data, expectation: Expectation, actor?: string): Plan {
    const current = this.live.get(id);
    if (!current) return { error: RecordNotFoundException };
    if (expectation === 'stale') return { error: VersionConflictException };
    const before = current.data as Record<string, unknown>;
    const after = input as Record<string, unknown>;
    const changed = Object.keys({ ...after, ...before }).some((field) => after[field] !== before[field]);
    if (!changed) return { expected: () => this.expectedOf(id)!, commit: () => undefined };
    if (this.holderOf(input.code, id) !== undefined) return { error: UniqueConstraintException };
    return {
      expected: () => ({ id, version: current.version + 1, ...input }),
      commit: () => this.write(id, current.data, { ...input }, current.version + 1, actor),
    };
  }

  planDelete(id: string, expectation: Expectation): Plan {
    const current = this.live.get(id);
    if (!current) return { error: RecordNotFoundException };
    if (expectation === 'stale') return { error: VersionConflictException };
    return { expected: () => this.expectedOf(id)!, commit: () => void this.live.delete(id) };
  }

  /** The version a write with this expectation demands of the record `id`. */
  expectedVersion(id: string, expectation: Expectation): number | undefined {
    if (expectation === 'none') return undefined;
    const version = this.live.get(id)?.version ?? 1;
    return expectation === 'current' ? version : version > 1 ? version - 1 : version + 1;
  }

  /** History as the repository returns it (times left out); `null` for an id never created. */
  historyOf(id: string): { id: string; fields: Record<string, HistoryEntry[]> } | null {
    const history = this.histories.get(id);
    return history ? { id, fields: { group: [...history.group], rank: [...history.rank] } } : null;
  }

  /** Live records matching `where`, in the order of `sort`. */
  matching(where: Where, sort: string): Expected[] {
    return [...this.live.keys()]
      .map((id) => this.expectedOf(id)!)
      .filter((record) => Object.entries(where).every(([field, condition]) => satisfies(record, field, condition)))
      .sort((a, b) => compareBy(sort, a, b));
  }

  /** The next page of the open walk: the matches strictly after its position, at most `limit`. */
  nextPage(): { items: Expected[]; more: boolean } {
    const walk = this.walk!;
    const after = this.matching(walk.where, walk.sort).filter(
      (record) => !walk.position || compareBy(walk.sort, record, { ...walk.position, [sortField(walk.sort)]: walk.position.value } as unknown as Expected) > 0,
    );
    return { items: after.slice(0, walk.limit), more: after.length > walk.limit };
  }

  private holderOf(code: string, except?: string): string | undefined {
    return [...this.live.entries()].find(([id, record]) => id !== except && record.data.code === code)?.[0];
  }

  /** Stores the record and records history as the package does: changed values only, trimmed by policy. */
  private write(id: string, before: Data | undefined, after: Data, version: number, actor?: string): void {
    this.live.set(id, { data: after, version });
    let history = this.histories.get(id);
    if (!history) this.histories.set(id, (history = { group: [], rank: [] }));
    for (const field of ['group', 'rank'] as const) {
      const value = after[field];
      if (value === before?.[field] || (before === undefined && value === undefined)) continue;
      history[field].unshift({ value: value ?? null, version, ...(actor !== undefined && { actor }) });
    }
    history.rank.splice(RANK_VERSIONS);
  }
}

function sortField(sort: string): string {
  return sort.startsWith('-') ? sort.slice(1) : sort;
}

/** The order the API promises: missing values first, then numbers, then strings; ties by id; `-` reverses it all. */
export function compareBy(sort: string, a: Expected, b: Expected): number {
  const field = sortField(sort);
  const rank = (value: unknown) => (value === undefined ? 0 : typeof value === 'number' ? 1 : 2);
  const compare = (x: unknown, y: unknown) =>
    rank(x) !== rank(y) ? rank(x) - rank(y) : x === y || rank(x) === 0 ? 0 : (x as string | number) < (y as string | number) ? -1 : 1;
  const order = (field === 'id' ? 0 : compare((a as Record<string, unknown>)[field], (b as Record<string, unknown>)[field])) || compare(a.id, b.id);
  return sort.startsWith('-') ? -order : order;
}

function satisfies(record: Expected, field: string, condition: unknown): boolean {
  const actual = (record as Record<string, unknown>)[field];
  if (condition === null || typeof condition !== 'object') return actual === condition;
  return Object.entries(condition).every(([op, value]) => {
    switch (op) {
      case 'ne':
        return actual !== value;
      case 'in':
        return (value as unknown[]).includes(actual);
      case 'prefix':
        return typeof actual === 'string' && actual.startsWith(value as string);
      default: {
        if (typeof actual !== typeof value) return false;
        const [x, y] = [actual as number, value as number];
        return op === 'gt' ? x > y : op === 'gte' ? x >= y : op === 'lt' ? x < y : x <= y;
      }
    }
  });
}

/** A stored record without its managed times, for comparing with the model. */
export function withoutTimes<R extends { createdAt?: unknown; updatedAt?: unknown }>(record: R | null): Omit<R, 'createdAt' | 'updatedAt'> | null {
  if (!record) return null;
  const { createdAt: _createdAt, updatedAt: _updatedAt, ...rest } = record;
  return rest;
}

/** History as the repository returns it, without times. */
export function historyWithoutTimes(history: { id: string; fields: Record<string, { at?: string }[]> } | null) {
  if (!history) return null;
  return {
    id: history.id,
    fields: Object.fromEntries(Object.entries(history.fields).map(([field, entries]) => [field, entries.map(({ at: _at, ...rest }) => rest)])),
  };
}
