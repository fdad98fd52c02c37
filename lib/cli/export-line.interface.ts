import type { StoreCatalog } from '../storage/store-catalog.util.js';

/**
 * The first line of an export: the catalog of the exported entities, so `import --create`
 * can make a new store that holds them as the app defined them.
 */
export interface ExportHeader {
  catalog: StoreCatalog;
}

/** Every other line of an export, and of an import's input: `{"entity":"permits","record":{...}}`. */
export interface ExportLine {
  entity: string;
  /** The record as stored: managed fields (`id`, `version`, `createdAt`, `updatedAt`) and every field, hidden ones too. */
  record: Record<string, unknown>;
}
