import type { Database } from 'lmdb';
import type { ChangeApplying } from './entity-projection.interface.js';
import type { IndexKey } from './index-key.util.js';
import { ReplicationDivergedException } from './replication-diverged.exception.js';
import type { TransactionMessage } from './transaction-message.util.js';
import type { LmdbEnvironment } from './lmdb-environment.store.js';
import { META_DB } from './store-layout.util.js';
import { ulidFactory } from './ulid.util.js';

/** The last replicated message a store applied: written in the same transaction as its changes. */
export interface ReplicationPosition {
  /** Its sequence number in the stream; 0 before the first. */
  seq: number;
  /** Its hash (`messageHash`); '' before the first. */
  hash: string;
}

const POSITION_KEY: IndexKey = ['replication'];
/** The catalog the last message applied was decided under: written when it changes. */
const LAST_CATALOG_KEY: IndexKey = ['replication', 'catalog'];
const ADOPTION_KEY: IndexKey = ['adoption'];
const nextAdoptionId = ulidFactory();

/**
 * The id under which this store starts a stream from its own data (`adoptLocalStore`), made
 * and stored durably the first time it is asked for: a start cut short after appending the
 * baseline finds the stream's first message carrying it, and so knows that message for its own.
 */
export async function adoptionOf(environment: LmdbEnvironment): Promise<string> {
  const meta = environment.database<unknown, IndexKey>(META_DB);
  return environment.write(() => {
    const stored = meta.get(ADOPTION_KEY);
    if (typeof stored === 'string') return stored;
    const id = nextAdoptionId();
    meta.putSync(ADOPTION_KEY, id);
    return id;
  });
}

export function readPosition(meta: Database<unknown, IndexKey>): ReplicationPosition {
  return (meta.get(POSITION_KEY) as ReplicationPosition | undefined) ?? { seq: 0, hash: '' };
}

/** How a message may be applied besides following the last one under this store's catalog. */
export interface ApplyOptions {
  /** The message is the baseline this store appended to start the stream. */
  adopting?: boolean;
  /**
   * Catalogs the message may also have been decided under: it was in the stream before this
   * start, decided before every instance was stopped to change the definitions, and events
   * apply to the new ones as they did to the earlier (see `earlierCatalogsOf`).
   */
  earlierCatalogs?: readonly string[];
}

/**
 * Applies the message at `seq` inside the current write transaction, unless it was applied
 * already (the instance that decided it applies it on its acknowledgement, then receives it).
 * Throws `ReplicationDivergedException`, having changed nothing, for a message that skips one,
 * does not chain on the hash of the last one applied, was decided under another catalog (but
 * `earlierCatalogs`), or starts the stream from another store's data (`baseline`) unless this
 * store is that one (`adopting`).
 */
export function applyMessage(
  meta: Database<unknown, IndexKey>,
  tx: ChangeApplying,
  catalog: string,
  seq: number,
  message: TransactionMessage,
  hash: string,
  { adopting = false, earlierCatalogs = [] }: ApplyOptions = {},
): boolean {
  const position = readPosition(meta);
  if (seq <= position.seq) return false;
  if (message.baseline !== undefined && !adopting) {
    throw new ReplicationDivergedException(
      `message ${seq} starts the stream from the data of an existing store, which it does not carry: start this instance from a backup of an instance of the stream`,
    );
  }
  if (seq !== position.seq + 1) throw new ReplicationDivergedException(`message ${seq} arrived after ${position.seq}: ${seq - position.seq - 1} missing`);
  if (message.prev !== position.hash)
    throw new ReplicationDivergedException(`message ${seq} does not follow the message this store applied before it (hash mismatch)`);
  if (message.catalog !== catalog && !earlierCatalogs.includes(message.catalog)) {
    throw new ReplicationDivergedException(
      `message ${seq} was decided by an instance whose entities are stored another way (catalog ${message.catalog}, here ${catalog}): ` +
        'every instance must run the same entity definitions; stop them all before starting them with changed ones, ' +
        'and start one that stopped before the others took their last writes once with the old code to catch up',
    );
  }
  if (message.catalog === catalog) for (const change of message.changes) tx.apply(change);
  else applyEarlier(tx, seq, message.changes);
  meta.putSync(POSITION_KEY, { seq, hash } satisfies ReplicationPosition);
  if (meta.get(LAST_CATALOG_KEY) !== message.catalog) meta.putSync(LAST_CATALOG_KEY, message.catalog);
  return true;
}

/**
 * Applies the changes of a message decided under the definitions this store had before this
 * start. Those were found to apply alike under the new ones, but for what no catalog tells (an
 * entity the new code no longer registers): such a message refuses as one of other definitions does.
 */
function applyEarlier(tx: ChangeApplying, seq: number, changes: TransactionMessage['changes']): void {
  try {
    for (const change of changes) tx.apply(change);
  } catch (error) {
    throw new ReplicationDivergedException(
      `message ${seq} was decided under the entity definitions this store had before this start and does not apply under these (${(error as Error).message}): ` +
        'start this instance once with the old code to catch up, or from a backup of an instance that applied it',
    );
  }
}

/** The catalog the last message this store applied was decided under; none before the first, or in a store of an older version. */
export function lastAppliedCatalog(meta: Database<unknown, IndexKey>): string | undefined {
  const catalog = meta.get(LAST_CATALOG_KEY);
  return typeof catalog === 'string' ? catalog : undefined;
}
