import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Inject, Injectable, type Type } from '@nestjs/common';
import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityEvent } from './entity-event.interface.js';
import { EntityStorage } from './entity-storage.store.js';
import type { MaintenanceResult } from './maintenance-result.interface.js';
import type { StoreStat } from './store-stat.interface.js';
import { storeStat } from './store-stat.util.js';
import type { VerifyReport } from './store-verifier.util.js';

/**
 * Maintenance of the store of `EntitiesModule.forRoot` from code: what the command line does
 * to a store, for an app that keeps running (a scheduled check, a replica fed from the log).
 * Inject it as `EntitiesMaintenance`.
 */
@Injectable()
export class EntitiesMaintenance {
  /** @internal */
  constructor(@Inject(EntityStorage) private readonly storage: EntityStorage) {}

  /**
   * Checks records, indexes, unique constraints, history, the log and the audit trail, as
   * every process has committed them so far, and lists every inconsistency.
   */
  verify(): VerifyReport {
    this.storage.renewSnapshot();
    return this.storage.verify();
  }

  /** Rebuilds the indexes of one entity (its class or its name), or of every entity, from the records. */
  async rebuildIndexes(entity?: Type<object> | string): Promise<void> {
    await this.storage.rebuildIndexes(entity === undefined ? undefined : this.definitionOf(entity));
  }

  /** Events with a seq greater than `afterSeq`, oldest first, `limit` at most, as every process has committed them so far. */
  events(afterSeq = 0, limit = 1000): EntityEvent[] {
    this.storage.renewSnapshot();
    return this.storage.events(afterSeq, limit);
  }

  /**
   * Applies events made elsewhere (another store's `events()`, a backup of its log) in one
   * transaction, as local writes are applied. Each must carry the next seq of this store's
   * log; otherwise nothing is applied.
   */
  async replay(events: readonly EntityEvent[]): Promise<void> {
    await this.storage.replay(events);
  }

  /**
   * Forgets expired idempotency keys and drops events past the module's `eventRetention`:
   * what runs at start-up and every `maintenanceInterval`, run now.
   */
  async runMaintenance(): Promise<MaintenanceResult> {
    return this.storage.runMaintenance();
  }

  /**
   * Copies the store into `directory` from one snapshot, consistent while the app writes on.
   * The directory is created if missing and must not hold a store yet; open the copy with
   * `forRoot({ path: directory })` or the command line's `--path`. `compact` leaves out free
   * pages: a smaller file, a slower copy.
   */
  async backup(directory: string, options: { compact?: boolean } = {}): Promise<void> {
    const target = resolve(directory);
    if (target === resolve(this.storage.environment.path)) throw new Error('the backup directory is the store itself');
    // The copy is renamed into place over whatever is there: a store in the directory would be lost.
    if (existsSync(join(target, 'data.mdb'))) throw new Error(`${target} already holds a store; back up into a new directory`);
    await this.storage.environment.backup(target, options.compact ?? false);
  }

  /** Records, index entries and history per entity, the log, and how much of the LMDB map and disk is used: the command line's `stat`. */
  stat(): Promise<StoreStat> {
    this.storage.renewSnapshot();
    return storeStat(this.storage, this.storage.registered());
  }

  private definitionOf(entity: Type<object> | string): EntityDefinition {
    if (typeof entity !== 'string') return this.storage.definitionOf(entity);
    const registered = this.storage.registered();
    const definition = registered.find((candidate) => candidate.name === entity);
    if (definition) return definition;
    const known = registered.map((candidate) => candidate.name).join(', ') || 'none';
    throw new Error(`the store has no entity "${entity}" (its entities: ${known})`);
  }
}
