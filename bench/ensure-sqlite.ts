import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * The TypeORM peer needs better-sqlite3's native addon. npm 11 skips install scripts unless
 * approved, so a fresh `npm ci` leaves it unbuilt; build it once here (node-gyp, about a minute).
 */
const require = createRequire(import.meta.url);
try {
  const Database = require('better-sqlite3') as new (file: string) => { close(): void };
  new Database(':memory:').close();
} catch {
  process.stderr.write('[bench] building better-sqlite3 for the TypeORM reference (once)...\n');
  execSync('npm rebuild better-sqlite3', { stdio: 'inherit' });
}
