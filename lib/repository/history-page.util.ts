import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import { InvalidQueryException } from '../query/invalid-query.exception.js';
import { positiveInteger } from '../query/positive-integer.util.js';
import type { HistoryPage } from '../storage/field-history.store.js';
import type { HistoryOptions } from './history-options.interface.js';

/**
 * The page of a history read, checked: `limit` and `before` positive integers, `field` a
 * historized field. For a call checked for a principal (`unreadable` given), a hidden field or
 * one it may not read is refused as a missing one is, so the answer tells nothing of it.
 */
export function historyPageOf(definition: EntityDefinition, { limit, before, field }: HistoryOptions, unreadable?: ReadonlySet<string>): HistoryPage {
  const page: HistoryPage = {};
  if (limit !== undefined) page.limit = positiveInteger('limit', limit);
  if (before !== undefined) page.before = positiveInteger('before', before);
  if (field !== undefined) {
    const declared = typeof field === 'string' ? definition.fieldsByName.get(field) : undefined;
    const readable = declared && (!unreadable || (!declared.hidden && !unreadable.has(declared.name)));
    if (!readable || declared.history === 'never') throw new InvalidQueryException(`${definition.name} has no historized field ${String(field)}`);
    page.field = field;
  }
  return page;
}
