import type { StoredRecord } from './entity-event.interface.js';
import type { StoreCompanion } from './entity-projection.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import { applyEvent } from './event-applier.util.js';
import type { EventLog } from './event-log.store.js';
import type { IdempotencyStore } from './idempotency.store.js';
import { purgeExpired } from './store-maintenance.util.js';
import type { MaintenanceResult } from './maintenance-result.interface.js';
import type { SchemaVersions } from './schema-versions.store.js';
import type { CompanionChange, PurgeChange, StoreChange } from './store-change.interface.js';

/**
 * The one way the store's state changes: `apply` writes a decided change inside the current
 * write transaction. It decides nothing and reads only the state the change touches, so
 * applying the changes a store made, in order, to a copy of it as it was leaves the copy
 * equal to the store: what another instance fed from the same changes relies on.
 */
export class ChangeApplier {
  private readonly companions = new Map<string, StoreCompanion>();

  constructor(
    private readonly log: EventLog,
    private readonly idempotency: IdempotencyStore,
    private readonly tablesNamed: (entity: string) => EntityTables | undefined,
    private readonly schema: SchemaVersions,
    companions: readonly StoreCompanion[],
  ) {
    for (const companion of companions) if (companion.changePrefix !== undefined) this.companions.set(companion.changePrefix, companion);
  }

  /**
   * Applies `change`. A writer that already read the record an event changes, in this
   * transaction, hands it over as `known.before` rather than have it read twice. A purge
   * answers how much it removed.
   */
  apply(change: PurgeChange): MaintenanceResult;
  apply(change: StoreChange, known?: { before: StoredRecord | undefined }): void;
  apply(change: StoreChange, known?: { before: StoredRecord | undefined }): MaintenanceResult | void {
    switch (change.kind) {
      case 'event': {
        const tables = this.tablesNamed(change.event.entity);
        if (!tables) throw new Error(`a change names an unknown entity "${change.event.entity}"`);
        const before = known ? known.before : tables.records.get(change.event.id);
        applyEvent(tables, this.log.append(change.event), before);
        return;
      }
      case 'remember':
        this.idempotency.remember(change);
        return;
      case 'purge':
        return purgeExpired(this.idempotency, this.log, change.now, change.retention);
      case 'schema':
        this.schema.apply(change);
        return;
      default:
        this.companionOf(change).applyChange!(change);
    }
  }

  private companionOf(change: CompanionChange): StoreCompanion {
    const companion = this.companions.get(change.kind.slice(0, change.kind.indexOf('.')));
    if (!companion?.applyChange) throw new Error(`no part of the store applies changes of kind "${change.kind}"`);
    return companion;
  }
}
