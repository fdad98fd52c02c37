import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import type { StoreChange } from './store-change.interface.js';

/** The version of the message layout below; a reader refuses any other. */
export const MESSAGE_FORMAT = 1;

/**
 * One committed write transaction as replication ships it: every change it made, in order, with
 * what an instance checks before applying it (the layout of the entities it was decided under,
 * and the hash of the message before it, which chains the stream).
 */
export interface TransactionMessage {
  format: typeof MESSAGE_FORMAT;
  /** The instance that decided it. */
  origin: string;
  /** Hash of the entities' storage layout (`catalogHash`). */
  catalog: string;
  /** Hash of the message before it in the stream; '' for the first. */
  prev: string;
  changes: StoreChange[];
  /**
   * The stream starts here from the data of the store that appended it (`adoptLocalStore`),
   * which the message does not carry: only a copy of that store can follow it. The store's
   * adoption id (`adoptionOf`).
   */
  baseline?: string;
}

// Self-contained messages: no structures shared between them, which a reader joining later would lack.
const packr = new Packr({ useRecords: false, moreTypes: true });

export function encodeMessage(message: TransactionMessage): Uint8Array {
  return packr.pack(message);
}

/** The message in `bytes`, or an error naming what is wrong with them. */
export function decodeMessage(bytes: Uint8Array): TransactionMessage {
  const message = packr.unpack(bytes) as Partial<TransactionMessage> | null;
  if (message?.format !== MESSAGE_FORMAT) throw new Error(`a replicated message has format ${String(message?.format)}; this version reads ${MESSAGE_FORMAT}`);
  if (typeof message.origin !== 'string' || typeof message.catalog !== 'string' || typeof message.prev !== 'string' || !Array.isArray(message.changes)) {
    throw new Error('a replicated message lacks its origin, catalog, prev hash or changes');
  }
  return message as TransactionMessage;
}

/** The hash a message is chained by: of its bytes, which hold the hash before it. */
export function messageHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url');
}
