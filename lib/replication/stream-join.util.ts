import { ReplicationDivergedException } from '../storage/replication-diverged.exception.js';
import { decodeMessage, encodeMessage, MESSAGE_FORMAT } from '../storage/transaction-message.util.js';
import type { SequencedStore } from '../storage/write-sequencer.interface.js';
import type { JetStreamLog } from './jetstream-log.client.js';

/** Appends one message after `last` with the Nats-Msg-Id `msgID`: its seq, or `undefined` when another message came first. */
export type AppendAfter = (bytes: Uint8Array, last: number, msgID: string) => Promise<number | undefined>;

/** Why a store holding changes made without replication, and not set to adopt them, may not follow the stream. */
export function unreplicatedChanges(log: JetStreamLog): ReplicationDivergedException {
  return new ReplicationDivergedException(
    `this store holds changes made without replication, which the other instances lack; start from an empty data directory or a backup of an instance of stream ${log.stream}, ` +
      'or set replication.adoptLocalStore on the one instance whose store is to start an empty stream',
  );
}

/** Checks that a store that applied message `seq` can follow the stream from there, which holds messages `first` to `last`. */
export function checkFollowable(seq: number, first: number, last: number, log: JetStreamLog): void {
  if (seq > last) {
    throw new ReplicationDivergedException(`this store applied message ${seq} of a stream that ends at ${last} in ${log.stream}: it follows another stream`);
  }
  if (seq < last && seq + 1 < first) {
    throw new ReplicationDivergedException(
      `stream ${log.stream} no longer holds message ${seq + 1} (it starts at ${first}); start from a backup of an instance made after message ${first - 1}`,
    );
  }
}

/**
 * Starts the empty stream from this store's data: appends a baseline message, which carries
 * none of it, after nothing, and applies it here. The message holds the store's adoption id
 * (its Nats-Msg-Id too), so a start cut short after the append, or another process on this
 * directory, finds the stream's first message to be this store's and goes on from it. A
 * stream begun by any other message is refused: this store's changes are in none of them.
 */
export async function adoptStream(store: SequencedStore, log: JetStreamLog, origin: string, append: AppendAfter): Promise<void> {
  const id = await store.adoption();
  const refused = (why: string) =>
    new ReplicationDivergedException(
      `adoptLocalStore: ${why}, so this store's changes, made without replication, cannot start it; ` +
        `start from a backup of an instance of stream ${log.stream}, or adopt into a new stream (delete and create it again: a purged stream keeps its seqs)`,
    );
  const ownFirst = async (): Promise<Uint8Array | undefined> => {
    const first = await log.messageAt(1).catch(() => undefined);
    try {
      return first && decodeMessage(first).baseline === id ? first : undefined;
    } catch {
      return undefined;
    }
  };
  const { last } = await log.bounds();
  let bytes = last > 0 ? await ownFirst() : undefined;
  if (last > 0 && !bytes) throw refused(`stream ${log.stream} has begun (its last seq is ${last})`);
  if (!bytes) {
    const baseline = encodeMessage({ format: MESSAGE_FORMAT, origin, catalog: store.catalog, prev: '', changes: [], baseline: id });
    const seq = await append(baseline, 0, `adopt.${id}`);
    bytes = seq === 1 ? baseline : await ownFirst();
    if (!bytes) throw refused(`another instance started stream ${log.stream} first`);
  }
  await store.applyReplicated(1, bytes, { adopting: true });
}
