import { createHash } from 'node:crypto';
import type { Database } from 'lmdb';
import { IdempotencyConflictException } from './idempotency-conflict.exception.js';
import type { IndexKey } from './index-key.util.js';
import type { RememberChange } from './store-change.interface.js';

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
    readonly ttl: number,
  ) {}

  /** Whether any result is remembered, expired or not. */
  holdsResults(): boolean {
    return this.results.getKeysCount({ limit: 1 }) > 0;
  }

  /**
   * The first result of a write made with this key and input, if it is still remembered at
   * `now`; a repeat with another input throws, an expired key counts as new.
   */
  recall(entity: string, actor: string, key: string, fingerprint: string, now: number): { result: unknown } | undefined {
    const remembered = this.results.get([entity, actor, key]);
    if (!remembered || remembered.expiresAt <= now) return undefined;
    if (remembered.fingerprint !== fingerprint) throw new IdempotencyConflictException(entity, key);
    return { result: remembered.result };
  }

  /** Stores a write's result under its key, replacing an expired one; runs inside a write transaction. */
  remember(change: RememberChange): void {
    const id: IndexKey = [change.entity, change.actor, change.key];
    const previous = this.results.get(id);
    if (previous) this.expiries.removeSync([previous.expiresAt, ...(id as string[])]);
    this.results.putSync(id, { fingerprint: change.fingerprint, result: change.result, expiresAt: change.expiresAt });
    this.expiries.putSync([change.expiresAt, ...(id as string[])], null);
  }

  /** Forgets expired keys, at most `max`; runs inside a write transaction. Returns how many it removed. */
  purge(now: number, max: number): number {
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
export function fingerprintOf(input: unknown): string {
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
