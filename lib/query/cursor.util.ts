import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { MISSING, type KeyComponent } from '../storage/index-key.util.js';
import { isRecordId } from '../storage/record-id.util.js';
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

/** Starts a cursor of a page in id order; never a character of base64url, which sealed cursors are written in. */
const ID_ORDER = '~';
const CHECKSUM_BYTES = 4;

/**
 * Cursors hold the last sort value of a page, which may be a field some principals may not
 * read, so they are sealed with AES-256-GCM under a key kept in the store: opaque to
 * clients, and tamper-evident. A page in id order ends at an id the page itself shows, so its
 * cursor carries that id in the clear, with a checksum against a mangled copy: sealing it
 * would hide nothing and cost a list of 50 about a tenth of its time. A cursor naming some
 * other id starts a page there, showing only what the caller may list anyway.
 */
export function encodeCursor(position: CursorPosition, key: Buffer): string {
  if (isIdOrder(position.sort)) {
    const body = Buffer.from(JSON.stringify([position.sort, position.id]), 'utf8');
    const checksum = Buffer.alloc(CHECKSUM_BYTES);
    checksum.writeUInt32BE(crc32(body));
    return `${ID_ORDER}${Buffer.concat([checksum, body]).toString('base64url')}`;
  }
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  // JSON has no -Infinity: a missing sort value travels as { missing: true }.
  const value = position.value === MISSING ? { missing: true } : position.value;
  const sealed = Buffer.concat([cipher.update(JSON.stringify([position.sort, value, position.id]), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

/** Reads a cursor, refusing one that is malformed, tampered with, or made for another sort order. */
export function decodeCursor(cursor: string, sort: string, key: Buffer): CursorPosition {
  if (cursor.startsWith(ID_ORDER)) return decodeIdOrderCursor(cursor, sort);
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

function isIdOrder(sort: string): boolean {
  return sort === 'id' || sort === '-id';
}

function decodeIdOrderCursor(cursor: string, sort: string): CursorPosition {
  const bytes = Buffer.from(cursor.slice(ID_ORDER.length), 'base64url');
  const body = bytes.subarray(CHECKSUM_BYTES);
  let parsed: unknown;
  try {
    if (bytes.length <= CHECKSUM_BYTES || bytes.readUInt32BE(0) !== crc32(body)) throw new Error('checksum');
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new InvalidQueryException('cursor is not valid');
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw new InvalidQueryException('cursor is not valid');
  const [cursorSort, id] = parsed as unknown[];
  if (typeof cursorSort !== 'string' || !isIdOrder(cursorSort) || !isRecordId(id)) throw new InvalidQueryException('cursor is not valid');
  if (cursorSort !== sort) throw new InvalidQueryException(`cursor was made for sort=${cursorSort}, not sort=${sort}`);
  return { sort: cursorSort, value: MISSING, id };
}
