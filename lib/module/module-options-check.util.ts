import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import type { EntitiesMetricsOptions } from '../common/metrics-options.interface.js';

type Rule = (value: unknown) => boolean;

/** The longest delay Node's timers take; a longer one fires at once. */
const MAX_TIMER = 2 ** 31 - 1;

const count: Rule = (value) => Number.isSafeInteger(value) && (value as number) > 0;
const amount: Rule = (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const flag: Rule = (value) => typeof value === 'boolean';

const text: Rule = (value) => typeof value === 'string' && value !== '';
const roleMap: Rule = (value) =>
  value !== null &&
  typeof value === 'object' &&
  !Array.isArray(value) &&
  Object.values(value).every((permissions) => Array.isArray(permissions) && permissions.every((permission) => typeof permission === 'string'));
const increasing: Rule = (value) =>
  Array.isArray(value) &&
  value.length > 0 &&
  value.every((bound, i) => typeof bound === 'number' && Number.isFinite(bound) && (i === 0 || bound > value[i - 1]));
/** What Prometheus allows at the start of a metric name (or nothing). */
const METRIC_PREFIX = /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/;
/** The lmdb settings the package passes on; the others (durability among them) are its own. */
const LMDB_TUNING = new Set(['mapSize', 'pageSize', 'maxReaders']);

/** Each option that takes a number, a flag or a setting of a kind of its own, where it sits, what it must be and how to tell. */
const RULES: ReadonlyArray<readonly [path: string, rule: Rule, expected: string]> = [
  ['path', text, 'a directory path'],
  ['getPrincipal', (value) => typeof value === 'function', 'a function of the request'],
  ['roles', roleMap, 'an object of role names to arrays of permission strings'],
  ['cursorSecret', (value) => typeof value === 'string' || value instanceof Uint8Array, 'a string or bytes'],
  ['migrate', (value) => value === 'on-start' || value === 'manual', "'on-start' or 'manual'"],
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
  ['metrics.enabled', flag, 'true or false'],
  ['metrics.path', (value) => value === false || text(value), 'a route path, or false'],
  ['metrics.prefix', (value) => typeof value === 'string' && METRIC_PREFIX.test(value), 'letters, digits, "_" and ":", not starting with a digit'],
  ['metrics.buckets', increasing, 'increasing numbers'],
  ['metrics.registry', (value) => typeof (value as { metrics?: unknown } | null)?.metrics === 'function', 'a prom-client Registry'],
  ['lmdb.mapSize', count, 'a whole number of bytes above 0'],
  ['lmdb.pageSize', count, 'a whole number of bytes above 0'],
  ['lmdb.maxReaders', count, 'a whole number above 0'],
];

/** The settings each part of the options takes; another (`requirePermission`, `paht`) is a typo that would quietly change nothing. */
const KNOWN: Readonly<Record<string, ReadonlySet<string>>> = {
  '': new Set([
    'path',
    'getPrincipal',
    'roles',
    'requirePermissions',
    'maxBodyBytes',
    'idempotencyTtl',
    'cursorSecret',
    'eventRetention',
    'migrate',
    'replication',
    'maxBatchSize',
    'cache',
    'lmdb',
    'metrics',
    'slowQueryMs',
    'tracing',
    'requestContext',
    'health',
  ]),
  eventRetention: new Set(['maxEvents', 'maxAgeMs']),
  replication: new Set(['servers', 'stream', 'replicas', 'timeout', 'adoptLocalStore']),
  cache: new Set(['manager', 'ttl', 'all', 'maxEntries', 'timeout']),
  metrics: new Set(['enabled', 'path', 'registry', 'prefix', 'buckets']),
  health: new Set(['minHeadroomBytes', 'writeProbe', 'writeProbeTimeout']),
  lmdb: LMDB_TUNING,
};

/**
 * Fails start-up, naming each option, when a setting is not of the kind the package reads: a
 * value from the environment (`'1000'`) or in another library's notation (`'1kb'`) would
 * otherwise compare or add as text and quietly turn a limit off; so would a misspelt name.
 */
export function checkModuleOptions(options: EntitiesModuleOptions): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`EntitiesModule options must be an object (as forRootAsync's factory returns), not ${describe(options)}`);
  }
  const problems: string[] = [];
  for (const [path, rule, expected] of RULES) {
    const value = path.split('.').reduce<unknown>((holder, key) => (holder as Record<string, unknown> | undefined)?.[key], options);
    if (value !== undefined && !rule(value)) problems.push(`${path} must be ${expected}, not ${describe(value)}`);
  }
  for (const [part, known] of Object.entries(KNOWN)) {
    const holder: unknown = part === '' ? options : (options as unknown as Record<string, unknown>)[part];
    // Only object literals: a config class's instance (returned by forRootAsync's factory) holds more than its settings.
    if (holder === null || typeof holder !== 'object' || ![Object.prototype, null].includes(Object.getPrototypeOf(holder))) continue;
    for (const key of Object.keys(holder)) {
      const name = part === '' ? key : `${part}.${key}`;
      if (!known.has(key))
        problems.push(`${name} is not a setting the package takes (${part === '' ? 'see EntitiesModuleOptions' : `only ${[...known].join(', ')}`})`);
    }
  }
  if (problems.length > 0) throw new Error(`EntitiesModule options: ${problems.join('; ')}`);
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
}

/**
 * With `forRootAsync` the metrics route is fixed before the factory runs (`metricsPath`), so a
 * `metrics.path` the factory returns cannot be served: fails start-up rather than answer 404
 * there. Metrics collected with no route and no `path: false` saying so are warned about.
 */
export function checkMetricsRoute(metrics: EntitiesMetricsOptions | undefined, route: string | false, warn: (message: string) => void): void {
  if (!metrics?.enabled || metrics.path === false) return;
  const trimmed = (path: string) => path.replace(/^\/+|\/+$/g, '');
  if (metrics.path !== undefined && (route === false || trimmed(route) !== trimmed(metrics.path))) {
    throw new Error(
      `EntitiesModule options: metrics.path ${JSON.stringify(metrics.path)} cannot be served from the forRootAsync factory, ` +
        `which runs after the routes are fixed${route === false ? '' : ` (the metrics route is ${route})`}: ` +
        `give it beside the factory, forRootAsync({ metricsPath: ${JSON.stringify(metrics.path)}, useFactory })`,
    );
  }
  if (route === false) {
    warn(
      'metrics are collected but no route serves them: with forRootAsync give the route beside the factory ' +
        "(forRootAsync({ metricsPath: '/metrics', useFactory })), or set metrics.path: false when you serve the registry yourself",
    );
  }
}
