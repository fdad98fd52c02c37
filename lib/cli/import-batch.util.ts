import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { StoredRecord } from '../storage/entity-event.interface.js';
import type { WriteTransaction } from '../storage/write-transaction.store.js';
import type { ExportLine } from './export-line.interface.js';
import { LineFailure } from './line-failure.exception.js';

/** One non-empty input line and where it was. */
export interface InputLine {
  number: number;
  text: string;
}

/** What one batch did. */
export interface BatchOutcome {
  imported: number;
  /** Records already stored as they are in the input: an import run again after a failure skips them. */
  skipped: number;
}

/**
 * Imports one batch inside one write transaction: each record becomes a `created` event
 * through `restore`, so a throw anywhere leaves the store as it was before the batch.
 */
export function importBatch(
  tx: WriteTransaction,
  lines: readonly InputLine[],
  definitionOf: (entity: string) => EntityDefinition | undefined,
  actor: string | undefined,
  /** Hears each record stored, for the checks once the import is in. */
  stored: (definition: EntityDefinition, record: StoredRecord) => void = () => undefined,
): BatchOutcome {
  const outcome: BatchOutcome = { imported: 0, skipped: 0 };
  for (const line of lines) {
    const { entity, record } = parseLine(line);
    const definition = definitionOf(entity);
    if (!definition) throw new LineFailure(line.number, `the store has no entity "${entity}"`);
    try {
      const deleted = definition.softDelete && record.deletedAt !== undefined;
      const existing = typeof record.id !== 'string' ? undefined : deleted ? tx.getDeleted(definition, record.id) : tx.get(definition, record.id);
      if (existing && existing.version === record.version && existing.updatedAt === record.updatedAt) {
        outcome.skipped++;
        continue;
      }
      stored(definition, tx.importRecord(definition, record, actor === undefined ? {} : { actor }));
      outcome.imported++;
    } catch (error) {
      throw new LineFailure(line.number, (error as Error).message);
    }
  }
  return outcome;
}

function parseLine(line: InputLine): ExportLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.text);
  } catch {
    throw new LineFailure(line.number, 'is not JSON');
  }
  const { entity, record } = (parsed ?? {}) as Partial<ExportLine>;
  if (typeof entity !== 'string' || record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new LineFailure(line.number, 'must be {"entity": "<name>", "record": {...}} as export writes it');
  }
  return { entity, record };
}
