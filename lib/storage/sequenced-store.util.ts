import type { EntityDefinition } from '../metadata/entity-definition.interface.js';
import type { IndexKey } from './index-key.util.js';
import type { LmdbEnvironment } from './lmdb-environment.store.js';
import { ReplicationDivergedException } from './replication-diverged.exception.js';
import { catalogHash } from './catalog-hash.util.js';
import { adoptionOf, applyMessage, readPosition, type ReplicationPosition } from './replication-position.util.js';
import type { StoreChange } from './store-change.interface.js';
import { META_DB } from './store-layout.util.js';
import { decodeMessage, messageHash, type TransactionMessage } from './transaction-message.util.js';
import type { SequencedStore } from './write-sequencer.interface.js';
import { finished, type WriteTransaction } from './write-transaction.store.js';

/**
 * What the write sequencer (replication) decides, applies and stops writes through, for the
 * store of `environment` and its entities' `definitions`. `transaction` starts a write
 * transaction that lists the changes it applies in `applied`. `earlierCatalogs` are those
 * messages in the stream before this start may also have been decided under (`earlierCatalogsOf`).
 */
export function sequencedStoreOf(
  environment: LmdbEnvironment,
  definitions: readonly EntityDefinition[],
  transaction: (applied?: StoreChange[]) => WriteTransaction,
  position: () => ReplicationPosition,
  hasLocalChanges: () => boolean,
  earlierCatalogs: readonly string[] = [],
): SequencedStore {
  const meta = environment.database<unknown, IndexKey>(META_DB);
  const catalog = catalogHash(definitions);
  return {
    catalog,
    decide: (writes) =>
      environment.dryRun(() => {
        const changes: StoreChange[] = [];
        const outcomes = writes.map((write) => {
          const own: StoreChange[] = [];
          try {
            const result = environment.orUndo(() => finished(transaction(own), write));
            changes.push(...own);
            return { result };
          } catch (error) {
            return { error };
          }
        });
        return { outcomes, changes, position: readPosition(meta) };
      }),
    applyReplicated: (seq, bytes, { adopting, backlog } = {}) => {
      let message: TransactionMessage;
      try {
        message = decodeMessage(bytes);
      } catch (error) {
        return Promise.reject(new ReplicationDivergedException(`message ${seq} cannot be read: ${(error as Error).message}`));
      }
      const options = { adopting, ...(backlog && { earlierCatalogs }) };
      return environment.write(() => applyMessage(meta, transaction(), catalog, seq, message, messageHash(bytes), options));
    },
    position,
    hasLocalChanges,
    adoption: () => adoptionOf(environment),
    stop: (failure) => environment.stop(failure),
  };
}
