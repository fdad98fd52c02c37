import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { EntityTables } from '../storage/entity-tables.interface.js';
import { afterPrefix, type IndexKey, type KeyComponent } from '../storage/index-key.util.js';
import type { CursorPosition } from './cursor.util.js';
import type { QueryTables } from './deleted-records.util.js';
import { prefixesOf, rangeOptions, type Key } from './key-range.util.js';
import type { QueryPlan } from './query-plan.interface.js';

/**
 * Past this many runs a merge reads more keys than collecting the matches and sorting them
 * usually does, so the query falls back to that.
 */
const MAX_MERGED_RUNS = 64;

/**
 * Records under an index's equality prefix in id order, by merging the runs of keys that share
 * the rest of the index's fields (each run is in id order); one seek per run finds them.
 * Undefined when there are more than MAX_MERGED_RUNS runs.
 */
export function mergeRuns(
  tables: QueryTables,
  plan: Extract<QueryPlan, { kind: 'index' }>,
  descending: boolean,
  cursor?: CursorPosition,
): Generator<StoredRecord> | undefined {
  const db = tables.indexes.find((entry) => entry.index === plan.index)!.db;
  const { runs, opened } = findRuns(db, plan, !descending && cursor === undefined);
  if (runs.length > MAX_MERGED_RUNS) {
    for (const run of opened ?? []) run.keys.return?.();
    return undefined;
  }
  if (opened?.length === 1) return runRecords(tables, opened[0]!.keys, opened[0]!.first);
  return mergedRecords(tables, db, runs, descending, cursor?.id, opened);
}

/** A walk opened to find a run, standing on the run's first key; it reads on to its prefix's end. */
interface OpenedRun {
  keys: Iterator<KeyComponent[]>;
  first: KeyComponent[];
}

/**
 * The runs under the plan's prefixes, up to one past MAX_MERGED_RUNS. With `openWalks` (a first
 * page in ascending order) each run is found by a walk from where the run before it ends to the
 * end of its prefix, left open: the merge reads each run on from there, one cursor per run
 * rather than a seek and then a walk (cursors are most of what such a page costs beside the reads).
 */
function findRuns(
  db: EntityTables['indexes'][number]['db'],
  plan: Extract<QueryPlan, { kind: 'index' }>,
  openWalks: boolean,
): { runs: KeyComponent[][]; opened?: OpenedRun[] } {
  const count = plan.index.fields.length;
  const runs: KeyComponent[][] = [];
  const opened: OpenedRun[] | undefined = openWalks ? [] : undefined;
  try {
    for (const prefix of prefixesOf(plan)) {
      const end = afterPrefix(prefix);
      let start: Key = prefix;
      while (runs.length <= MAX_MERGED_RUNS) {
        let first: KeyComponent[] | undefined;
        if (opened) {
          const keys = (db.getKeys({ start: start as IndexKey, end }) as Iterable<KeyComponent[]>)[Symbol.iterator]();
          const next = keys.next();
          if (next.done) break;
          first = next.value;
          opened.push({ keys, first });
        } else {
          for (const key of db.getKeys({ start: start as IndexKey, end, limit: 1 }) as Iterable<KeyComponent[]>) first = key;
        }
        if (!first) break;
        const run = first.slice(0, count);
        runs.push(run);
        start = afterPrefix(run);
      }
    }
  } catch (error) {
    for (const run of opened ?? []) run.keys.return?.();
    throw error;
  }
  return { runs, ...(opened && { opened }) };
}

/** The records of the index keys `first` and then what `keys` holds, in that order. */
function* runRecords(tables: QueryTables, keys: Iterator<KeyComponent[]>, first: KeyComponent[]): Generator<StoredRecord> {
  try {
    for (let next: IteratorResult<KeyComponent[]> = { done: false, value: first }; !next.done; next = keys.next()) {
      const record = tables.records.get(next.value[next.value.length - 1] as string);
      if (record) yield record;
    }
  } finally {
    keys.return?.();
  }
}

/**
 * The records of `runs` in id order. `opened` holds a walk of each run standing on its first key
 * (see `findRuns`); such a walk runs on past its run, so a key of another run ends it.
 */
function* mergedRecords(
  tables: QueryTables,
  db: EntityTables['indexes'][number]['db'],
  runs: KeyComponent[][],
  descending: boolean,
  resumeId?: string,
  opened?: OpenedRun[],
): Generator<StoredRecord> {
  const heads = runs.map((run, i) => {
    const iterator =
      opened?.[i]?.keys ??
      (
        db.getKeys(rangeOptions({ lower: run, upper: afterPrefix(run) }, descending, resumeId === undefined ? undefined : [...run, resumeId])) as Iterable<
          KeyComponent[]
        >
      )[Symbol.iterator]();
    return { iterator, run, pending: opened?.[i]?.first, id: undefined as string | undefined };
  });
  const advance = (head: (typeof heads)[number]) => {
    let next: IteratorResult<KeyComponent[]>;
    if (head.pending) {
      next = { done: false, value: head.pending };
      head.pending = undefined;
    } else next = head.iterator.next();
    for (; !next.done; next = head.iterator.next()) {
      if (opened && !inRun(next.value, head.run)) break;
      const id = next.value[next.value.length - 1] as string;
      if (id !== resumeId) return (head.id = id);
    }
    return (head.id = undefined);
  };
  try {
    for (const head of heads) advance(head);
    for (;;) {
      let best: (typeof heads)[number] | undefined;
      for (const head of heads) {
        if (head.id !== undefined && (best === undefined || (descending ? head.id > best.id! : head.id < best.id!))) best = head;
      }
      if (!best) return;
      const record = tables.records.get(best.id!);
      advance(best);
      if (record) yield record;
    }
  } finally {
    for (const head of heads) head.iterator.return?.();
  }
}

/** Whether an index key belongs to the run: its leading components are the run's (one key form each). */
function inRun(key: KeyComponent[], run: KeyComponent[]): boolean {
  for (let i = 0; i < run.length; i++) if (key[i] !== run[i]) return false;
  return true;
}
