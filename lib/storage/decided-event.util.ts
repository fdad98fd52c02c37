import { timedEventId } from './event-id.util.js';
import type { CommitOptions } from './committing-transaction.interface.js';
import type { EntityEvent, EntityEventType } from './entity-event.interface.js';
import type { WriteContext } from './write-context.interface.js';

/**
 * The event of a change a write transaction decided: a new id and its time, and what the write
 * context tells the log (actor, idempotency key, request). Built key by key, in the log's
 * order: V8 takes about a microsecond to add a key to an object literal after a spread that
 * copied some, and this runs for every write.
 */
export function decidedEvent(
  entity: string,
  type: EntityEventType,
  id: string,
  version: number,
  data: Record<string, unknown> | undefined,
  context: WriteContext,
  { soft, migration }: Pick<CommitOptions, 'soft' | 'migration'>,
  /** The time of the record's last change (ms since the epoch): the event's is not before it. */
  notBefore: number,
): Omit<EntityEvent, 'seq'> {
  const { id: eventId, at } = timedEventId(notBefore);
  const event: Partial<Omit<EntityEvent, 'seq'>> = { eventId, entity, id, type, version };
  if (soft) event.soft = true;
  if (data) event.data = data;
  if (migration) {
    event.migration = migration.to;
    if (migration.renamed) event.renamed = migration.renamed;
  }
  if (context.actor !== undefined) event.actor = context.actor;
  event.at = at;
  if (context.idempotencyKey !== undefined) event.idempotencyKey = context.idempotencyKey;
  if (context.request) event.request = context.request;
  return event as Omit<EntityEvent, 'seq'>;
}
