import { isDeepStrictEqual } from 'node:util';
import type { EntityProjection } from './entity-projection.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import type { EventLog } from './event-log.store.js';
import { FieldHistory } from './field-history.store.js';
import { pastRecord } from './past-record.util.js';
import { encodeKey, indexKeyOf, LOWEST_KEY, MISSING } from './index-key.util.js';
import { progressCounter } from './progress-counter.util.js';

/** Event types after which a record is not live. */
const GONE: ReadonlySet<string> = new Set(['deleted', 'purged']);

/** What `verify()` found. `ok` only when `problems` is empty; `checked` counts what was walked. */
export interface VerifyReport {
  ok: boolean;
  problems: string[];
  checked: { records: number; indexEntries: number; historyEntries: number; events: number; auditEntries: number; grants: number };
}

/**
 * Walks everything and lists every inconsistency: records against their indexes and back,
 * unique constraints, history against its policies, the log against the records (the log
 * must be gap-free, and when it is complete each record must be what its events made), and
 * each projection (the audit trail) against its listings and the log.
 */
export function verifyStore(
  entities: readonly EntityTables[],
  log: EventLog,
  projections: readonly EntityProjection[],
  onProgress?: (checked: number) => void,
): VerifyReport {
  const problems: string[] = [];
  const checked = { records: 0, indexEntries: 0, historyEntries: 0, events: 0, auditEntries: 0, grants: 0 };
  const progress = progressCounter(onProgress);
  const live = new Map<string, Map<string, number>>();
  const deletedIds = new Map<string, Set<string>>();

  for (const tables of entities) {
    const name = tables.definition.name;
    const versions = new Map<string, number>();
    live.set(name, versions);
    // Unique values as the records hold them, so a duplicate missing from the index is caught too.
    const uniqueOwners = new Map(tables.indexes.filter(({ index }) => index.unique).map(({ index }) => [index, new Map<string, string>()]));
    for (const { key, value } of tables.records.getRange({})) {
      checked.records++;
      progress.step();
      if (value?.id !== key) problems.push(`${name} ${key}: stored under another id (${String(value?.id)})`);
      if (!Number.isInteger(value?.version) || value.version < 1) problems.push(`${name} ${key}: invalid version ${String(value?.version)}`);
      versions.set(key, value.version);
      for (const { index, db } of tables.indexes) {
        const indexKey = indexKeyOf(index, value, key);
        if (db.get(indexKey as never) === undefined) problems.push(`${name} ${key}: missing from index ${index.name}`);
        const values = indexKey.slice(0, -1);
        const owners = uniqueOwners.get(index);
        if (!owners || values.includes(MISSING)) continue;
        const encoded = encodeKey(values).toString('base64');
        const other = owners.get(encoded);
        if (other !== undefined) problems.push(`${name} unique index ${index.name}: records ${other} and ${key} share ${index.fields.join(', ')}`);
        else owners.set(encoded, key);
      }
    }
    for (const { index, db } of tables.indexes) {
      let previous: unknown[] | undefined;
      for (const key of db.getKeys({ start: LOWEST_KEY }) as Iterable<unknown[]>) {
        checked.indexEntries++;
        progress.step();
        const id = key[key.length - 1] as string;
        const record = tables.records.get(id);
        if (!record) problems.push(`${name} index ${index.name}: entry for missing record ${id}`);
        else if (!encodeKey(indexKeyOf(index, record, id)).equals(encodeKey(key as never))) {
          problems.push(`${name} index ${index.name}: stale entry for record ${id}`);
        }
        const values = key.slice(0, -1);
        if (index.unique && previous && !values.includes(MISSING) && values.every((v, i) => v === previous![i])) {
          problems.push(`${name} unique index ${index.name}: records ${String(previous.at(-1))} and ${id} share ${index.fields.join(', ')}`);
        }
        previous = key;
      }
    }
    if (tables.deleted) {
      const ids = new Set<string>();
      deletedIds.set(name, ids);
      for (const { key, value } of tables.deleted.getRange({})) {
        checked.records++;
        progress.step();
        ids.add(key);
        if (value?.id !== key) problems.push(`${name} deleted ${key}: stored under another id (${String(value?.id)})`);
        if (versions.has(key)) problems.push(`${name} ${key}: both stored and among the deleted records`);
        if (typeof value?.deletedAt !== 'string') problems.push(`${name} deleted ${key}: has no deletedAt`);
      }
    }
    const counts = new Map<string, number>();
    for (const entry of tables.history.entries(() => progress.step())) {
      checked.historyEntries++;
      if (entry.field === FieldHistory.deletedMarker) {
        if (versions.has(entry.id)) problems.push(`${name} ${entry.id}: marked deleted but still stored`);
        continue;
      }
      const field = tables.definition.fieldsByName.get(entry.field);
      // A field the entity no longer declares keeps its history, unread, as records keep its
      // values until `drop-fields`: what is left of a past definition is no inconsistency.
      if (!field) continue;
      if (field.history === 'never') problems.push(`${name} ${entry.id}: history kept for ${entry.field}, whose policy keeps none`);
      const key = `${entry.id}\u0000${entry.field}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (typeof field.history === 'object' && counts.get(key)! > field.history.versions) {
        problems.push(`${name} ${entry.id}: ${entry.field} keeps more than ${field.history.versions} versions`);
      }
    }
  }

  const tablesByName = new Map(entities.map((tables) => [tables.definition.name, tables]));
  let expected = log.firstSeq();
  const complete = expected <= 1;
  const lastEvent = new Map<string, { type: string; version: number; soft?: true }>();
  const eventOwners = new Map<number, string>();
  for (const event of log.all()) {
    checked.events++;
    progress.step();
    if (event.seq !== expected) problems.push(`event log: seq ${event.seq} where ${expected} was expected`);
    expected = event.seq + 1;
    eventOwners.set(event.seq, `${event.entity}\u0000${event.id}`);
    lastEvent.set(`${event.entity}\u0000${event.id}`, { type: event.type, version: event.version, ...(event.soft && { soft: true }) });
  }
  for (const [entity, id, seq] of log.recordListing()) {
    const owner = eventOwners.get(seq);
    if (owner === undefined) problems.push(`event log: ${entity} ${id} lists event ${seq}, which the log does not hold`);
    else if (owner !== `${entity}\u0000${id}`) problems.push(`event log: ${entity} ${id} lists event ${seq}, which is another record's`);
    eventOwners.delete(seq);
  }
  for (const seq of eventOwners.keys()) problems.push(`event log: event ${seq} is not listed under its record`);
  const counted = log.countedSeq();
  const newest = log.newestKey();
  if (counted !== undefined && counted !== newest) problems.push(`event log: counts ${counted} as its last seq, its newest event is ${newest}`);
  if (complete) {
    for (const [entity, versions] of live) {
      for (const [id, version] of versions) {
        const last = lastEvent.get(`${entity}\u0000${id}`);
        if (!last || GONE.has(last.type)) problems.push(`${entity} ${id}: stored, but the log does not create it`);
        else if (last.version !== version) problems.push(`${entity} ${id}: at version ${version}, the log says ${last.version}`);
        else {
          const differing = fieldsUnlikeEvents(log, tablesByName.get(entity)!, id, version);
          if (differing.length > 0) problems.push(`${entity} ${id}: ${differing.join(', ')} not as its events made ${differing.length === 1 ? 'it' : 'them'}`);
        }
      }
    }
    for (const [key, last] of lastEvent) {
      const [entity, id] = key.split('\u0000') as [string, string];
      if (!GONE.has(last.type) && live.get(entity) && !live.get(entity)!.has(id)) problems.push(`${entity} ${id}: in the log, missing from the store`);
      const deleted = deletedIds.get(entity);
      if (deleted && last.soft && !deleted.has(id)) problems.push(`${entity} ${id}: deleted softly in the log, missing from the deleted records`);
      if (deleted?.has(id) && !last.soft) problems.push(`${entity} ${id}: among the deleted records, but the log does not delete it softly`);
    }
  }
  for (const projection of projections) {
    const found = projection.verify(log, () => progress.step());
    checked[found.counted] += found.entries;
    problems.push(...found.problems);
  }
  progress.flush();
  return { ok: problems.length === 0, problems, checked };
}

/** The keys of a record whose values are not those its events, folded from its `created` on, made at its version. */
function fieldsUnlikeEvents(log: EventLog, tables: EntityTables, id: string, version: number): string[] {
  const record = tables.records.get(id);
  const made = pastRecord(log.recordEvents(tables.definition.name, id), { version });
  if (!record || made.kind !== 'found') return [];
  const keys = new Set([...Object.keys(record), ...Object.keys(made.record)]);
  return [...keys].filter((key) => !isDeepStrictEqual(record[key], made.record[key]));
}
