import { Logger } from '@nestjs/common';
import type { HistoryPolicy } from '../metadata/decorator-options.interface.js';
import type { EntityDefinition, FieldDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import { markTrimmed } from './event-applier.util.js';
import { nextEventId } from './event-id.util.js';
import { versionsKept } from './field-history.store.js';
import type { IndexKey } from './index-key.util.js';
import type { LmdbEnvironment } from './lmdb-environment.store.js';
import type { CatalogEntity, StoreCatalog } from './store-catalog.util.js';

/** History entries one write transaction looks at: a large store never holds LMDB's write lock for long. */
const TRIM_BATCH = 10_000;

/**
 * Brings kept history down to `@Historize` policies that keep less than when the store was
 * last opened, as its catalog tells ('full' → `{ versions: 1 }`, `{ versions: 5 }` →
 * `{ versions: 2 }`, anything → 'never'): each record keeps the newest values the new policy
 * keeps, as if it had always been in force, which is also what a replay of the log under it
 * would keep. Runs at start-up, before the new catalog is recorded, in bounded write
 * transactions: a start cut short trims the rest at the next start.
 */
export class HistoryTrimmer {
  private readonly logger = new Logger('EntitiesStorage');

  constructor(
    private readonly environment: LmdbEnvironment,
    private readonly batch = TRIM_BATCH,
    /**
     * Whether a trim gives the change mark a new id, besides counting itself. Not when replicated:
     * each instance trims on its own, before it catches up, and an id of its own would differ from
     * the others'; its directory is its own, so no process of older code reads it.
     */
    private readonly movesMark = true,
  ) {}

  async reconcile(entities: readonly EntityTables[], previous: StoreCatalog | undefined): Promise<void> {
    for (const tables of entities) {
      const definition = tables.definition;
      const narrowed = narrowedFields(
        previous?.entities.find((entity) => entity.name === definition.name),
        definition,
      );
      if (narrowed.length === 0) continue;
      const changes = narrowed.map(({ field, was }) => `${field.name} ${policyText(was)} → ${policyText(field.history)}`).join(', ');
      this.logger.warn(`trimming the history of ${definition.name} to its narrowed @Historize policies: ${changes}`);
      const fields = new Set(narrowed.map(({ field }) => field.name));
      let removed = 0;
      let from: IndexKey | undefined;
      do {
        const step = await this.environment.write(() => {
          const trimmed = tables.history.trimToPolicy(fields, from, this.batch);
          // No event tells caches of it: history answers cached before would outlive the values. Counted
          // in the trim's last transaction, whatever this instance had to remove (one behind the others,
          // with less, must count alike), and once per start: a start cut short counts it at the next.
          if (trimmed.resumeAt === undefined) markTrimmed(tables, this.movesMark ? nextEventId() : undefined);
          return trimmed;
        });
        removed += step.removed;
        from = step.resumeAt;
      } while (from !== undefined);
      this.logger.log(`removed ${removed} history entries of ${definition.name}`);
    }
  }
}

/**
 * The fields whose policy keeps fewer values now than the catalog's entry for the entity says,
 * fields removed once and added back included (the catalog remembers their history's policy).
 */
function narrowedFields(recorded: CatalogEntity | undefined, definition: EntityDefinition): Array<{ field: FieldDefinition; was: HistoryPolicy }> {
  const before = new Map([...(recorded?.removedHistory ?? []), ...(recorded?.fields ?? [])].map((field) => [field.name, field.history]));
  return definition.fields.flatMap((field) => {
    const was = before.get(field.name);
    return was !== undefined && versionsKept(field.history) < versionsKept(was) ? [{ field, was }] : [];
  });
}

function policyText(policy: HistoryPolicy): string {
  return typeof policy === 'string' ? `'${policy}'` : `{ versions: ${policy.versions} }`;
}
