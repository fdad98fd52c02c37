import type { Database } from 'lmdb';
import type { IndexKey } from './index-key.util.js';
import type { SchemaState } from './schema-state.interface.js';
import type { SchemaChange } from './store-change.interface.js';

const SCHEMA_KEY = 'schema';

/**
 * Each entity's schema version, in the store's metadata. Changed only by applying a
 * `SchemaChange`, in the transaction of the records it speaks for, so a replica learns it
 * from the same message; an entity without an entry is at version 1 (stores written before
 * migrations existed, and new entities, whose first start records their version).
 */
export class SchemaVersions {
  constructor(private readonly meta: Database<unknown, IndexKey>) {}

  of(entity: string): SchemaState {
    return (this.meta.get([SCHEMA_KEY, entity]) as SchemaState | undefined) ?? { version: 1 };
  }

  apply(change: SchemaChange): void {
    this.meta.putSync([SCHEMA_KEY, change.entity], change.state);
  }
}
