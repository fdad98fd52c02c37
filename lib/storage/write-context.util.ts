import { InvalidRecordException } from './invalid-record.exception.js';
import type { WriteContext } from './write-context.interface.js';

/**
 * An actor is a principal id; it becomes part of LMDB keys (the audit trail by actor, the
 * idempotency store), whose size LMDB bounds, so one too long would fail the write with a
 * RangeError. HTTP refuses such principals with 401; code calling the repository gets 400.
 */
export const ACTOR = /^[^\u0000-\u001f\u007f\ud800-\udfff]{1,256}$/u;
/** As `Idempotency-Key` allows it: one printable ASCII token of sane length. */
export const MAX_IDEMPOTENCY_KEY = 255;
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Refuses an actor or idempotency key that cannot be stored, before anything is written. */
export function checkWriteContext(entity: string, context: WriteContext): void {
  const problems: string[] = [];
  if (context.actor !== undefined && (typeof context.actor !== 'string' || !ACTOR.test(context.actor))) {
    problems.push('actor must be 1 to 256 characters, without control characters');
  }
  if (context.idempotencyKey !== undefined && (typeof context.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(context.idempotencyKey))) {
    problems.push(`idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY} printable ASCII characters`);
  }
  if (problems.length > 0) throw new InvalidRecordException(entity, problems);
}
