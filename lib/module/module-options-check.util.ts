import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';

type Rule = (value: unknown) => boolean;

/** The longest delay Node's timers take; a longer one fires at once. */
const MAX_TIMER = 2 ** 31 - 1;

const count: Rule = (value) => Number.isSafeInteger(value) && (value as number) > 0;
const amount: Rule = (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const flag: Rule = (value) => typeof value === 'boolean';

/** Each option that takes a number or a flag, where it sits, what it must be and how to tell. */
const RULES: ReadonlyArray<readonly [path: string, rule: Rule, expected: string]> = [
  ['path', (value) => typeof value === 'string' && value !== '', 'a directory path'],
  ['maxBodyBytes', count, 'a whole number of bytes above 0 (not a text such as "1kb")'],
  ['maxBatchSize', count, 'a whole number above 0'],
  ['idempotencyTtl', (value) => amount(value) && (value as number) > 0, 'a number of milliseconds above 0'],
  ['eventRetention.maxEvents', (value) => Number.isSafeInteger(value) && (value as number) >= 0, 'a whole number from 0'],
  ['eventRetention.maxAgeMs', amount, 'a number of milliseconds from 0'],
  ['slowQueryMs', (value) => value === false || amount(value), 'a number of milliseconds from 0, or false'],
  ['requirePermissions', flag, 'true or false'],
  ['tracing', flag, 'true or false'],
  ['requestContext', (value) => flag(value) || value === 'auto', "true, false or 'auto'"],
  ['cache.ttl', amount, 'a number of milliseconds from 0'],
  ['cache.all', flag, 'true or false'],
  ['cache.maxEntries', count, 'a whole number above 0'],
  ['cache.timeout', (value) => amount(value) && (value as number) > 0, 'a number of milliseconds above 0'],
  ['health.minHeadroomBytes', amount, 'a number of bytes from 0'],
  ['health.writeProbe', flag, 'true or false'],
  [
    'health.writeProbeTimeout',
    (value) => amount(value) && (value as number) > 0 && (value as number) <= MAX_TIMER,
    'a number of milliseconds above 0, at most 2147483647',
  ],
  ['lmdb.mapSize', count, 'a whole number of bytes above 0'],
  ['lmdb.pageSize', count, 'a whole number of bytes above 0'],
  ['lmdb.maxReaders', count, 'a whole number above 0'],
];

/**
 * Fails start-up, naming each option, when a setting is not of the kind the package reads: a
 * value from the environment (`'1000'`) or in another library's notation (`'1kb'`) would
 * otherwise compare or add as text and quietly turn a limit off.
 */
export function checkModuleOptions(options: EntitiesModuleOptions): void {
  const problems: string[] = [];
  for (const [path, rule, expected] of RULES) {
    const value = path.split('.').reduce<unknown>((holder, key) => (holder as Record<string, unknown> | undefined)?.[key], options);
    if (value !== undefined && !rule(value)) problems.push(`${path} must be ${expected}, not ${describe(value)}`);
  }
  if (problems.length > 0) throw new Error(`EntitiesModule options: ${problems.join('; ')}`);
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
}
