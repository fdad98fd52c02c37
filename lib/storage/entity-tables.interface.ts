import type { Database } from 'lmdb';
import type { EntityDefinition, IndexDefinition } from '../metadata/entity-definition.interface.js';
import type { DeletedRecord, StoredRecord } from './entity-event.interface.js';
import type { EntityProjection } from './entity-projection.interface.js';
import type { FieldHistory } from './field-history.store.js';
import type { IndexKey } from './index-key.util.js';

export interface ChangeMark {
  count: number;
  lastEventId: string;
  /**
   * How many starts trimmed the entity's history to narrowed `@Historize` policies: cached answers
   * are keyed by it too, so none cached before a trim is asked for after it, a roll back to the
   * wider policies included. Each replicated instance counts the same starts alike, however far
   * behind it was and whatever it had to remove.
   */
  trims?: number;
}

/** The LMDB databases that hold one entity, and the projections that follow its changes. */
export interface EntityTables {
  readonly definition: EntityDefinition;
  /** id → record */
  readonly records: Database<StoredRecord, string>;
  /** Soft-deleted records (id → record with `deletedAt`), for an entity with `softDelete`; in no index. */
  readonly deleted?: Database<DeletedRecord, string>;
  /** One ordered database per index: `[...field components, id]` → null */
  readonly indexes: ReadonlyArray<{ readonly index: IndexDefinition; readonly db: Database<null, IndexKey> }>;
  readonly history: FieldHistory;
  /**
   * Per-entity change marks (`['changes', entity]` → `{ count, lastEventId }`), moved by
   * every event. The event id is random, so two stores (a copy, another app on the same
   * cache) never share a mark once either has changed.
   */
  readonly counters: Database<ChangeMark, IndexKey>;
  readonly projections: readonly EntityProjection[];
}
