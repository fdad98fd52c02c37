import { randomBytes } from 'node:crypto';
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
