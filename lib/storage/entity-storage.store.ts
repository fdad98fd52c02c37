import { Logger } from '@nestjs/common';
import type { EntityDefinition, IndexDefinition } from '../metadata/entity-definition.interface.js';
import type { EntityEvent, StoredRecord } from './entity-event.interface.js';
import type { EntityTables } from './entity-tables.interface.js';
import { EventLog } from './event-log.store.js';
import { indexKeyOf, type IndexKey } from './index-key.util.js';
import type { LmdbEnvironment } from './lmdb-environment.store.js';
import { WriteTransaction } from './write-transaction.store.js';

const LOG_DB = '_log';
const META_DB = '_meta';
/** Room for entities registered after the environment opened (lmdb's maxDbs is fixed per open). */
const SPARE_DBS = 16;

/**
 * All entities of one data directory: their LMDB databases, the event log, and the one
 * way to change them (`write`). Definitions register before the environment opens, so
 * `maxDbs` fits them.
 */
export class EntityStorage {
  private readonly logger = new Logger('EntitiesStorage');
  private readonly definitions = new Map<string, EntityDefinition>();
  private readonly tables = new Map<string, EntityTables>();
  private eventLog?: EventLog;
  private opening?: Promise<void>;

  constructor(readonly environment: LmdbEnvironment) {}

  /** Adds an entity; a second entity with the same name or path fails start-up. */
  register(definition: EntityDefinition): void {
    const existing = this.definitions.get(definition.name);
    if (existing === definition || existing?.target === definition.target) return;
    if (existing) {
      throw new Error(`${definition.target.name}: entity name "${definition.name}" is already used by ${existing.target.name}`);
    }
    for (const other of this.definitions.values()) {
      if (other.path === definition.path) {
        throw new Error(`${definition.target.name}: route path "/${definition.path}" is already used by ${other.target.name}`);
      }
    }
    this.definitions.set(definition.name, definition);
    if (this.environment.isOpen) this.tablesOf(definition);
  }

  /** The definition registered for an entity class. */
  definitionOf(target: Function): EntityDefinition {
    for (const definition of this.definitions.values()) if (definition.target === target) return definition;
    throw new Error(`${target.name} is not an entity of this store: list it in EntitiesModule.forFeature()`);
  }

  registered(): EntityDefinition[] {
    return [...this.definitions.values()];
  }

  /** Opens the environment and brings every index in line with its definition. Idempotent. */
  open(): Promise<void> {
    this.opening ??= this.openOnce();
    return this.opening;
  }

  private async openOnce(): Promise<void> {
    const dbCount = 2 + [...this.definitions.values()].reduce((sum, d) => sum + 1 + d.indexes.length, 0);
    this.environment.open(dbCount + SPARE_DBS);
    this.eventLog = new EventLog(this.environment.database<EntityEvent, number>(LOG_DB));
    for (const definition of this.definitions.values()) this.tablesOf(definition);
    await this.reconcileIndexes();
  }

  get log(): EventLog {
    if (!this.eventLog) throw new Error('the entity store is not open yet');
    return this.eventLog;
  }

  tablesOf(definition: EntityDefinition): EntityTables {
    let tables = this.tables.get(definition.name);
    if (!tables) {
      if (!this.definitions.has(definition.name)) this.register(definition);
      const db = (suffix: string) => this.environment.database(`${definition.name}.${suffix}`);
      tables = {
        definition,
        records: db('records'),
        indexes: definition.indexes.map((index) => ({ index, db: db(`index.${index.name}`) })),
      } as EntityTables;
      this.tables.set(definition.name, tables);
    }
    return tables;
  }

  /**
   * Runs `fn` in one LMDB write transaction and resolves once it is durable. Everything
   * `fn` changes, in any entity, commits together or not at all.
   */
  write<R>(fn: (tx: WriteTransaction) => R): Promise<R> {
    return this.environment.write(() => fn(new WriteTransaction((definition) => this.tablesOf(definition), this.log)));
  }

  /**
   * Rebuilds the indexes of one entity, or of all, from the records. Runs at start-up for
   * indexes that are new or changed since the store was last opened.
   */
  async rebuildIndexes(definition?: EntityDefinition): Promise<void> {
    const targets = definition ? [this.tablesOf(definition)] : [...this.definitions.values()].map((d) => this.tablesOf(d));
    for (const tables of targets) await this.rebuild(tables, tables.indexes.map(({ index }) => index));
  }

  async close(): Promise<void> {
    this.tables.clear();
    this.eventLog = undefined;
    this.opening = undefined;
    await this.environment.close();
  }

  private async reconcileIndexes(): Promise<void> {
    const meta = this.environment.database<string[], IndexKey>(META_DB);
    for (const definition of this.definitions.values()) {
      const tables = this.tablesOf(definition);
      const known = new Set(meta.get(['indexes', definition.name]) ?? []);
      const stale = definition.indexes.filter((index) => !known.has(signature(index)));
      if (stale.length > 0) {
        this.logger.log(`building ${stale.map((i) => i.name).join(', ')} of ${definition.name} from its records`);
        await this.rebuild(tables, stale);
      }
    }
  }

  private async rebuild(tables: EntityTables, indexes: readonly IndexDefinition[]): Promise<void> {
    const meta = this.environment.database<string[], IndexKey>(META_DB);
    const name = tables.definition.name;
    await this.environment.write(() => {
      for (const { index, db } of tables.indexes) {
        if (!indexes.includes(index)) continue;
        for (const key of [...db.getKeys({})]) db.removeSync(key);
        for (const { value } of tables.records.getRange({})) db.putSync(indexKeyOf(index, value as StoredRecord, value.id) as IndexKey, null);
      }
      meta.putSync(['indexes', name], tables.definition.indexes.map(signature));
    });
  }
}

function signature(index: IndexDefinition): string {
  return `${index.name}(${index.fields.join(',')})${index.unique ? ' unique' : ''}`;
}
