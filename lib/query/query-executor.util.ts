import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { EntityTables } from '../storage/entity-tables.interface.js';
import type { QueryTables } from './deleted-records.util.js';
import { afterPrefix, afterStringPrefix, encodeKey, LOWEST_KEY, MISSING, toKeyComponent, type IndexKey, type KeyComponent } from '../storage/index-key.util.js';
import { decodeCursor, encodeCursor, type CursorPosition } from './cursor.util.js';
import type { FindResult, QueryClause } from './find-query.interface.js';
import type { QueryPlan } from './query-plan.interface.js';
import { compareValues, matchesClause, type NormalizedQuery } from './query-clause.util.js';

type Key = KeyComponent | KeyComponent[] | Buffer;

interface Bounds {
  lower?: Key;
  upper?: Key;
}

/**
 * Runs a planned query in one synchronous pass, so every read sees one snapshot.
 * Ordered plans stop after `limit + 1` matches; the others collect every match in the
 * scanned range, sort it, and cut the page after the cursor.
 */
export function runQuery(
  tables: QueryTables,
  query: NormalizedQuery,
  plan: QueryPlan,
  cursorKey: Buffer,
  visible: (record: StoredRecord) => boolean = () => true,
): FindResult<StoredRecord> {
  const sortName = `${query.sort.descending ? '-' : ''}${query.sort.field}`;
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, sortName, cursorKey);
  const componentCount = plan.kind === 'index' ? plan.index.fields.length : 1;
  const sortComponent = (record: StoredRecord): KeyComponent =>
    query.sort.field === 'id' ? MISSING : toKeyComponent(record[query.sort.field as keyof StoredRecord], plan.ordered ? componentCount : 1);
  const matches = (record: StoredRecord) => query.clauses.every((clause) => matchesClause(record, clause)) && visible(record);
  const page: StoredRecord[] = [];
  const merged = plan.kind === 'index' && plan.mergeRuns ? mergeRuns(tables, plan, query.sort.descending, cursor) : undefined;

  if (plan.ordered || merged) {
    for (const record of merged ?? walk(tables, plan, query.sort.descending, cursor)) {
      if (!matches(record)) continue;
      page.push(record);
      if (page.length > query.limit) break;
    }
  } else {
    const direction = query.sort.descending ? -1 : 1;
    const found: { record: StoredRecord; component: KeyComponent }[] = [];
    for (const record of walk(tables, plan, false, undefined)) {
      if (matches(record)) found.push({ record, component: sortComponent(record) });
    }
    const order = (a: { component: KeyComponent; record: StoredRecord }, b: { component: KeyComponent; record: StoredRecord }) =>
      direction * (compareValues(a.component, b.component) || compareValues(a.record.id, b.record.id));
    found.sort(order);
    const start = cursor ? found.findIndex((item) => order(item, { component: cursor.value, record: { id: cursor.id } as StoredRecord }) > 0) : 0;
    if (start >= 0) page.push(...found.slice(start, start + query.limit + 1).map((item) => item.record));
  }

  const items = page.slice(0, query.limit);
  const last = items[items.length - 1];
  const nextCursor = page.length > query.limit && last ? encodeCursor({ sort: sortName, value: sortComponent(last), id: last.id }, cursorKey) : null;
  return { items, nextCursor };
}

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
function mergeRuns(
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

/** The equality prefixes an index plan reads: one, or one per value of its `in` alternatives. */
function prefixesOf(plan: Extract<QueryPlan, { kind: 'index' }>): KeyComponent[][] {
  const count = plan.index.fields.length;
  const prefix = plan.equalities.map((value) => toKeyComponent(value, count));
  if (!plan.alternatives) return [prefix];
  // Two long strings could share a key form (cut and hashed): their range is read once.
  const prefixes = new Map(plan.alternatives.map((value) => [...prefix, toKeyComponent(value, count)]).map((key) => [encodeKey(key).toString('hex'), key]));
  return [...prefixes.values()];
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

/** Records in the plan's key range, in key order (reversed when `descending`), resuming after `cursor`. */
function* walk(tables: QueryTables, plan: QueryPlan, descending: boolean, cursor?: CursorPosition): Generator<StoredRecord> {
  if (plan.kind === 'scan') {
    const bounds = scanBounds(plan.range);
    const resume = cursor?.id;
    for (const { key, value } of tables.records.getRange(rangeOptions(bounds, descending, resume))) {
      if (key === resume) continue;
      yield value;
    }
    return;
  }
  const count = plan.index.fields.length;
  const db = tables.indexes.find((entry) => entry.index === plan.index)!.db;
  if (plan.alternatives) {
    // Never ordered: the caller collects and sorts what the ranges hold.
    for (const prefix of prefixesOf(plan)) {
      for (const key of db.getKeys({ start: prefix as IndexKey, end: afterPrefix(prefix) }) as Iterable<KeyComponent[]>) {
        const record = tables.records.get(key[key.length - 1] as string);
        if (record) yield record;
      }
    }
    return;
  }
  const prefix = plan.equalities.map((value) => toKeyComponent(value, count));
  const bounds = plan.idRange.length > 0 ? idBoundsWithin(prefix, plan.idRange) : indexBounds(prefix, plan.range, count);
  bounds.lower ??= LOWEST_KEY;
  let resume: KeyComponent[] | undefined;
  if (cursor) resume = prefix.length === count ? [...prefix, cursor.id] : [...prefix, cursor.value, cursor.id];
  // Only the cursor's own key is skipped, not every key of its record: a record changed since
  // the last page may have moved past the cursor, and is then still ahead of the walk.
  let atCursor = resume && encodeKey(resume);
  for (const key of db.getKeys(rangeOptions(bounds, descending, resume)) as Iterable<KeyComponent[]>) {
    const id = key[key.length - 1] as string;
    if (atCursor) {
      const same = encodeKey(key).equals(atCursor);
      atCursor = undefined;
      if (same) continue;
    }
    const record = tables.records.get(id);
    if (record) yield record;
  }
}

function rangeOptions(bounds: Bounds, descending: boolean, resume?: Key): { start?: IndexKey; end?: IndexKey; reverse?: boolean; inclusiveEnd?: boolean } {
  const [start, end] = descending ? [resume ?? bounds.upper, bounds.lower] : [resume ?? bounds.lower, bounds.upper];
  // An open end is left out, not set to undefined: lmdb then reads `undefined` as the lowest key,
  // and the range would take in the entry where a database keeps its shared msgpack structures.
  // Walking down, the end is a lower bound, which may be a key itself (`id[gte]=X`, `id=X`): lmdb
  // leaves an end out unless told, and the upper bounds a walk up ends at are never keys.
  return { ...(start !== undefined && { start }), ...(end !== undefined && { end }), ...(descending && { reverse: true, inclusiveEnd: true }) } as {
    start?: IndexKey;
    end?: IndexKey;
    reverse?: boolean;
    inclusiveEnd?: boolean;
  };
}

/** Key bounds of an index walk: the equality prefix, narrowed by range clauses on the next field. */
function indexBounds(prefix: KeyComponent[], range: readonly QueryClause[], count: number): Bounds {
  let lower: KeyComponent | undefined;
  let upper: { value: KeyComponent; isPrefix: boolean } | undefined;
  for (const clause of range) {
    const value = toKeyComponent(clause.value, count);
    if (clause.op === 'gt' || clause.op === 'gte' || clause.op === 'prefix') {
      if (lower === undefined || compareValues(value, lower) > 0) lower = value;
    }
    if (clause.op === 'lt' || clause.op === 'lte' || clause.op === 'prefix') {
      if (upper === undefined || compareValues(value, upper.value) < 0) upper = { value, isPrefix: clause.op === 'prefix' };
    }
  }
  return {
    lower: lower !== undefined ? [...prefix, lower] : prefix.length > 0 ? prefix : undefined,
    upper:
      upper !== undefined
        ? upper.isPrefix
          ? afterStringPrefix([...prefix, upper.value])
          : afterPrefix([...prefix, upper.value])
        : prefix.length > 0
          ? afterPrefix(prefix)
          : undefined,
  };
}

/**
 * Key bounds of a walk within the run of one full set of index values (`prefix`), from range
 * clauses on `id`, the keys' last component. Each bound may take in a key too many; the
 * query's filter, which every record passes through, leaves it out.
 */
function idBoundsWithin(prefix: KeyComponent[], range: readonly QueryClause[]): Bounds {
  let lower: string | undefined;
  let upper: Buffer | undefined;
  for (const clause of range) {
    const id = clause.value as string;
    if ((clause.op === 'gt' || clause.op === 'gte' || clause.op === 'prefix') && (lower === undefined || compareValues(id, lower) > 0)) lower = id;
    if (clause.op === 'lt' || clause.op === 'lte' || clause.op === 'prefix') {
      const end = clause.op === 'prefix' ? afterStringPrefix([...prefix, id]) : afterPrefix([...prefix, id]);
      if (upper === undefined || Buffer.compare(end, upper) < 0) upper = end;
    }
  }
  return { lower: lower === undefined ? prefix : [...prefix, lower], upper: upper ?? afterPrefix(prefix) };
}

/** Key bounds of a walk over records, from clauses on `id` (plain string keys). */
function scanBounds(range: readonly QueryClause[]): Bounds {
  const bounds: Bounds = {};
  for (const clause of range) {
    const id = clause.value as string;
    if (clause.op === 'eq' || clause.op === 'gt' || clause.op === 'gte' || clause.op === 'prefix') bounds.lower = id;
    // A string key followed by a zero byte sorts after the key and before every longer key.
    if (clause.op === 'eq' || clause.op === 'lt' || clause.op === 'lte') bounds.upper = Buffer.concat([encodeKey(id), Buffer.from([0])]);
    if (clause.op === 'prefix') bounds.upper = Buffer.concat([encodeKey(id), Buffer.from([0xff])]);
  }
  return bounds;
}
