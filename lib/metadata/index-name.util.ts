import { createHash } from 'node:crypto';
import { STORAGE_NAME } from '../common/metadata.constants.js';

const MAX_NAME = 64;
const DIGEST = 8;

/**
 * The name of an index the package names itself (after its field, or its fields joined by `_`):
 * that name when it is a valid storage name, else one made valid. A field name may start with
 * `_` or `$` or run longer than a database name may, and an index the user never named must not
 * fail start-up for it. A made name ends with a digest of the whole: `$rank` and `_rank`, or a
 * field named like the made name, would otherwise meet. The same fields always give the same name.
 */
export function derivedIndexName(base: string): string {
  if (STORAGE_NAME.test(base)) return base;
  const digest = createHash('sha256').update(base).digest('hex').slice(0, DIGEST);
  const cleaned = `i${base.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, MAX_NAME - DIGEST - 1);
  return `${cleaned}_${digest}`;
}
