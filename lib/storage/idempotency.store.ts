import { createHash } from 'node:crypto';
import type { Database } from 'lmdb';
import { IdempotencyConflictException } from './idempotency-conflict.exception.js';
import type { IndexKey } from './index-key.util.js';

interface RememberedResult {
  fingerprint: string;
  result: unknown;
  expiresAt: number;
}

export const DEFAULT_IDEMPOTENCY_TTL = 24 * 60 * 60 * 1000;

/**
 * Results of writes made with an idempotency key, scoped per entity and actor, kept for a
 * time to live. Looked up and remembered inside the write's own transaction, so a write
 * can never be stored without being remembered, or remembered without being stored.
 */
export class IdempotencyStore {
  constructor(
    private readonly results: Database<RememberedResult, IndexKey>,
    private readonly expiries: Database<null, IndexKey>,
    private readonly ttl: number,
  ) {}

  /**
   * Runs `write` once per key: a repeat with the same input returns the first result, a
   * repeat with another input throws, an expired key counts as new.
   */
  run<R>(entity: string, actor: string | undefined, key: string, input: unknown, write: () => R): R {
    const id: IndexKey = [entity, actor ?? '', key];
    const fingerprint = fingerprintOf(input);
    const now = Date.now();
    const remembered = this.results.get(id);
    if (remembered && remembered.expiresAt > now) {
      if (remembered.fingerprint !== fingerprint) throw new IdempotencyConflictException(entity, key);
      return remembered.result as R;
    }
    if (remembered) this.expiries.removeSync([remembered.expiresAt, ...(id as string[])]);
    const result = write();
    const expiresAt = now + this.ttl;
    this.results.putSync(id, { fingerprint, result, expiresAt });
    this.expiries.putSync([expiresAt, ...(id as string[])], null);
    return result;
  }

  /** Forgets expired keys; runs inside a write transaction. Returns how many it removed. */
  purge(now = Date.now(), max = 10_000): number {
    let removed = 0;
    for (const key of [...this.expiries.getKeys({ end: [now], limit: max })] as unknown[][]) {
      this.expiries.removeSync(key as IndexKey);
      const id = key.slice(1) as IndexKey;
      if (this.results.get(id)?.expiresAt === key[0]) this.results.removeSync(id);
      removed++;
    }
    return removed;
  }
}

/** A digest of the input that does not depend on the order of object keys. */
function fingerprintOf(input: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(input)) ?? 'undefined')
    .digest('base64url');
}

function canonical(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
