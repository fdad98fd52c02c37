import { hkdfSync, randomBytes } from 'node:crypto';
import type { IndexKey } from './index-key.util.js';
import type { LmdbEnvironment } from './lmdb-environment.store.js';
import { META_DB } from './store-layout.util.js';

const CURSOR_KEY: IndexKey = ['cursorKey'];

/**
 * The key that seals list cursors, shared by every process on the directory. Created on
 * first open; the check is repeated inside the write, so concurrent openers agree on one.
 */
export async function loadCursorKey(environment: LmdbEnvironment): Promise<Buffer> {
  const meta = environment.database<Uint8Array, IndexKey>(META_DB);
  const existing = meta.get(CURSOR_KEY);
  if (existing) return Buffer.from(existing);
  return environment.write(() => {
    const current = meta.get(CURSOR_KEY);
    if (current) return Buffer.from(current);
    const key = randomBytes(32);
    meta.putSync(CURSOR_KEY, key);
    return key;
  });
}

/** Shorter secrets are guessable; 32 bytes is the key's own length. */
const MIN_SECRET_BYTES = 32;

/**
 * The key that seals list cursors, derived from the app's `cursorSecret` rather than kept in the
 * store: instances on different data directories (replicas, several machines behind one load
 * balancer) then accept each other's cursors.
 */
export function cursorKeyFromSecret(secret: string | Uint8Array): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new Error(`cursorSecret must be at least ${MIN_SECRET_BYTES} bytes (got ${bytes.length}); generate one with \`openssl rand -hex 32\``);
  }
  return Buffer.from(hkdfSync('sha256', bytes, 'nestjs-declarative-entities', 'list cursor key', 32));
}
