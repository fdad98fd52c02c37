import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { MISSING, type KeyComponent } from '../storage/index-key.util.js';
import { InvalidQueryException } from './invalid-query.exception.js';

/** Where a page ended: the sort it belongs to, the sort value's key form, and the id. */
export interface CursorPosition {
  sort: string;
  value: KeyComponent;
  id: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** IVs are drawn from the system's random source this many at a time: one call per IV costs a list page ~10 µs. */
const IVS_PER_DRAW = 256;
let ivPool = Buffer.alloc(0);
let ivOffset = 0;

/** A fresh random IV; never one handed out before, since each comes from its own bytes of the pool. */
function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_BYTES * IVS_PER_DRAW);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

/**
 * Cursors hold the last sort value of a page, which may be a field some principals may not
 * read, so they are sealed with AES-256-GCM under a key kept in the store: opaque to
 * clients, and tamper-evident.
 */
export function encodeCursor(position: CursorPosition, key: Buffer): string {
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  // JSON has no -Infinity: a missing sort value travels as { missing: true }.
  const value = position.value === MISSING ? { missing: true } : position.value;
  const sealed = Buffer.concat([cipher.update(JSON.stringify([position.sort, value, position.id]), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

/** Reads a cursor, refusing one that is malformed, tampered with, or made for another sort order. */
export function decodeCursor(cursor: string, sort: string, key: Buffer): CursorPosition {
  let parsed: unknown;
  try {
    const raw = Buffer.from(cursor, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    parsed = JSON.parse(Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8'));
  } catch {
    throw new InvalidQueryException('cursor is not valid');
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw new InvalidQueryException('cursor is not valid');
  const [cursorSort, raw, id] = parsed as unknown[];
  const value = raw !== null && typeof raw === 'object' && (raw as { missing?: unknown }).missing === true ? MISSING : raw;
  const valueOk = ['string', 'number', 'boolean'].includes(typeof value);
  if (typeof cursorSort !== 'string' || typeof id !== 'string' || !valueOk) throw new InvalidQueryException('cursor is not valid');
  if (cursorSort !== sort) throw new InvalidQueryException(`cursor was made for sort=${cursorSort}, not sort=${sort}`);
  return { sort: cursorSort, value: value as KeyComponent, id };
}
