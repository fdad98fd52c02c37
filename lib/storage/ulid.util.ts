import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

const pool = new Uint8Array(4096);
let next = pool.length;

/**
 * ulid's own generator asks the OS for one random byte per character (16 calls per new
 * millisecond); drawing the same crypto-quality bytes from a refilled pool costs a fraction.
 */
function pooledRandom(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! / 256;
}

/** A ULID as this package writes them (event, audit entry and record ids): 26 characters of Crockford's base 32. */
export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A ULID generator, monotonic within this process: later calls give greater ids. */
export function ulidFactory(): () => string {
  return monotonicFactory(pooledRandom);
}
