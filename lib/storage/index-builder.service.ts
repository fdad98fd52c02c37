import { Logger } from '@nestjs/common';
import type { EntityDefinition, IndexDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import { indexKeyOf, LOWEST_KEY, MISSING, type IndexKey } from './index-key.util.js';
import type { LmdbEnvironment } from './lmdb-environment.store.js';
import { progressCounter } from './progress-counter.util.js';

/**
 * Keeps each entity's index databases in line with its definition: the signatures of the
 * indexes last built are stored beside the data, and an index that is new or changed
 * since then is built from the records, in one write, before the app serves requests.
 */
export class IndexBuilder {
  private readonly logger = new Logger('EntitiesStorage');

  constructor(
    private readonly environment: LmdbEnvironment,
    private readonly metaDb: string,
  ) {}

  async reconcile(entities: readonly EntityTables[]): Promise<void> {
    const meta = this.meta();
    for (const tables of entities) {
      const definition = tables.definition;
      const recorded = meta.get(['indexes', definition.name]) ?? [];
      const current = definition.indexes.map(signature);
      const known = new Set(recorded);
      const stale = definition.indexes.filter((index) => !known.has(signature(index)));
      if (stale.length === 0) {
        // An app that dropped an index must say so, or a later app with it back would trust stale entries.
        if (recorded.length !== current.length) await this.environment.write(() => meta.putSync(['indexes', definition.name], current));
        continue;
      }
      if (tables.records.getKeysCount({ limit: 1 }) > 0) {
        this.logger.log(`building ${stale.map((i) => i.name).join(', ')} of ${definition.name} from its records`);
      }
      await this.rebuild(tables, stale);
    }
  }

  /**
   * Rebuilds the given indexes of one entity from its records, in one write; `onProgress`
   * hears of the index entries written as it goes. A repair (`repairs`) may change what lists
   * answer, so it is counted (see `reindexedCount`), which cached answers are keyed by too.
   */
  async rebuild(tables: EntityTables, indexes: readonly IndexDefinition[], onProgress?: (entries: number) => void, repairs = false): Promise<void> {
    const meta = this.meta();
    const definition = tables.definition;
    const progress = progressCounter(onProgress);
    await this.environment.write(() => {
      for (const { index, db } of tables.indexes) {
        if (!indexes.includes(index)) continue;
        for (const key of [...db.getKeys({ start: LOWEST_KEY })]) db.removeSync(key);
        for (const { value } of tables.records.getRange({})) {
          db.putSync(indexKeyOf(index, value, value.id) as IndexKey, null);
          progress.step();
        }
        if (index.unique) assertUnique(definition, index, db.getKeys({ start: LOWEST_KEY }) as Iterable<unknown[]>);
      }
      meta.putSync(['indexes', definition.name], definition.indexes.map(signature));
      if (repairs) this.countReindexed(definition);
    });
    progress.flush();
  }

  /** Rebuilds every index of each entity from its records, an entity per write: a repair (`rebuildIndexes`, the command line's `rebuild-indexes`). */
  async rebuildAll(entities: readonly EntityTables[], onProgress?: (entries: number) => void): Promise<void> {
    for (const tables of entities) {
      const indexes = tables.indexes.map(({ index }) => index);
      await this.rebuild(tables, indexes, onProgress, true);
    }
  }

  /**
   * How many repairs rebuilt the entity's indexes in this store. Kept beside the indexes, out of
   * the change marks: a store's indexes are its own, and replicated instances hold their marks alike.
   */
  reindexedCount(definition: EntityDefinition): number {
    return this.counts().get(['reindexed', definition.name]) ?? 0;
  }

  private countReindexed(definition: EntityDefinition): void {
    this.counts().putSync(['reindexed', definition.name], this.reindexedCount(definition) + 1);
  }

  private counts() {
    return this.environment.database<number, IndexKey>(this.metaDb);
  }

  private meta() {
    return this.environment.database<string[], IndexKey>(this.metaDb);
  }
}

function signature(index: IndexDefinition): string {
  return `${index.name}(${index.fields.join(',')})${index.unique ? ' unique' : ''}`;
}

/** A unique index built over existing data must not find duplicates; start-up fails naming them. */
function assertUnique(definition: EntityDefinition, index: IndexDefinition, keys: Iterable<unknown[]>): void {
  let previous: unknown[] | undefined;
  for (const key of keys) {
    const values = key.slice(0, -1);
    if (previous && !values.includes(MISSING) && values.every((value, i) => value === previous![i])) {
      throw new Error(
        `${definition.target.name}: unique index "${index.name}" cannot be built: records ${String(previous.at(-1))} and ${String(key.at(-1))} share ${index.fields.join(', ')}`,
      );
    }
    previous = key;
  }
}
