import type { Database } from 'lmdb';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityEvent } from '../storage/entity-event.interface.js';
import type { ProjectionCheck } from '../storage/entity-projection.interface.js';
import { afterPrefix, type IndexKey } from '../storage/index-key.util.js';
import type { RecordRight } from './acl-subjects.util.js';

/** The ACL's databases a record's grants live in: by record, and by subject. */
export interface GrantTables {
  grants: Database<RecordRight[], IndexKey>;
  bySubject: Database<null, IndexKey>;
}

/**
 * Whether an event removes its record for good: a purge, or a delete that keeps no deleted
 * record (a soft one too, once the entity no longer keeps deleted records: it replays as final).
 */
export function removesForGood(definition: EntityDefinition, event: EntityEvent): boolean {
  return event.type === 'purged' || (event.type === 'deleted' && (!event.soft || !definition.softDelete));
}

/**
 * Removes every grant on the record an event removed for good, inside the event's transaction:
 * a grant outliving its record would keep its subject reaching the entity (`hasGrantsIn`), and
 * come back to life on a record imported later under the same id. Whether any was removed.
 */
export function dropRecordGrants({ grants, bySubject }: GrantTables, event: EntityEvent): boolean {
  let dropped = false;
  for (const key of grants.getKeys({ start: [event.entity, event.id], end: afterPrefix([event.entity, event.id]) }) as Iterable<string[]>) {
    grants.removeSync(key);
    bySubject.removeSync([key[2]!, event.entity, event.id]);
    dropped = true;
  }
  return dropped;
}

/** For `verify`: every grant is listed under its subject, and every listing names a grant. */
export function checkGrantListings({ grants, bySubject }: GrantTables, onEntry: () => void): ProjectionCheck {
  const problems: string[] = [];
  let entries = 0;
  for (const key of grants.getKeys({}) as Iterable<string[]>) {
    entries++;
    onEntry();
    const [entity, id, subject] = key as [string, string, string];
    if (!bySubject.doesExist([subject, entity, id])) problems.push(`grant to ${subject} on ${entity} ${id}: not listed under its subject`);
  }
  for (const key of bySubject.getKeys({}) as Iterable<string[]>) {
    onEntry();
    const [subject, entity, id] = key as [string, string, string];
    if (!grants.doesExist([entity, id, subject])) problems.push(`${subject} is listed with a grant on ${entity} ${id} that does not exist`);
  }
  return { counted: 'grants', entries, problems };
}
