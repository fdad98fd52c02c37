import type { KeyComponent } from '../storage/index-key.util.js';
import { InvalidQueryException } from './invalid-query.exception.js';

/** Where a page ended: the sort it belongs to, the sort value's key form, and the id. */
export interface CursorPosition {
  sort: string;
  value: KeyComponent;
  id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.sort, position.value, position.id])).toString('base64url');
}

/** Reads a cursor, refusing one that is malformed or was made for another sort order. */
export function decodeCursor(cursor: string, sort: string): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidQueryException('cursor is not valid');
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw new InvalidQueryException('cursor is not valid');
  const [cursorSort, value, id] = parsed as unknown[];
  const valueOk = value === null || ['string', 'number', 'boolean'].includes(typeof value);
  if (typeof cursorSort !== 'string' || typeof id !== 'string' || !valueOk) throw new InvalidQueryException('cursor is not valid');
  if (cursorSort !== sort) throw new InvalidQueryException(`cursor was made for sort=${cursorSort}, not sort=${sort}`);
  return { sort: cursorSort, value: value as KeyComponent, id };
}
