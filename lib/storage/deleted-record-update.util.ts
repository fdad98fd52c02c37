import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { CommitOptions, CommittingTransaction } from './committing-transaction.interface.js';
import type { DeletedRecord } from './entity-event.interface.js';
import { withoutDeletedAt } from './event-applier.util.js';
import type { WriteContext } from './write-context.interface.js';

/**
 * Changes a soft-deleted record, which no event can: restored, updated with `data` and
 * deleted again in this transaction, keeping its `deletedAt`; its unique values and
 * references are left as they were when it was deleted.
 */
export function updateDeleted(
  tx: CommittingTransaction,
  definition: EntityDefinition,
  deleted: DeletedRecord,
  data: Record<string, unknown>,
  context: WriteContext,
  migration?: CommitOptions['migration'],
): void {
  const record = withoutDeletedAt(deleted);
  const settled = { checks: 'none' as const };
  tx.commit(definition, 'restored', record.id, record.version + 1, undefined, context, { ...settled, prior: record });
  tx.commit(definition, 'updated', record.id, record.version + 2, data, context, { ...settled, ...(migration && { migration }) });
  tx.commit(definition, 'deleted', record.id, record.version + 2, { deletedAt: deleted.deletedAt }, context, { ...settled, soft: true });
}
