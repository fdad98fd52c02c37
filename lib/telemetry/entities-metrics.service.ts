import type { Counter, Gauge, Histogram, Metric, Registry } from 'prom-client';
import type { EntityCache } from '../cache/entity-cache.service.js';
import type { EntityCacheMetrics } from '../common/entity-cache-options.interface.js';
import { freeDiskBytes } from '../storage/disk-space.util.js';
import type { EntityStorage } from '../storage/entity-storage.store.js';
import { importOptional, missingDependency } from '../common/optional-dependency.util.js';
import type { EntitiesMetricsOptions, MetricsRegistry } from '../common/metrics-options.interface.js';

type PromClient = typeof import('prom-client');

export const DEFAULT_METRICS_PREFIX = 'entities_';
/** LMDB reads take microseconds and durable commits milliseconds: the buckets start low. */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Records one HTTP answer of a route: its status and how long it took. */
export type RequestObserver = (status: number, seconds: number) => void;

/**
 * The package's Prometheus metrics in one registry. Label sets are fixed, and the children
 * of a route or operation are bound to their labels once, so the hot path does a map
 * lookup and an increment. Figures kept elsewhere (cache counters, log length, map usage,
 * record counts) are read from the store when the registry is scraped.
 */
export class EntitiesMetrics {
  readonly registry: MetricsRegistry;
  /** Every metric, made outside any registry: `open` registers them, `close` takes them out. */
  private readonly owned: Metric[] = [];
  private registered = false;
  private sources?: { storage: EntityStorage; cache: EntityCache };
  private readonly requests: Counter<string>;
  private readonly requestDuration: Histogram<string>;
  private readonly operationDuration: Histogram<string>;
  private readonly transactionDuration: Histogram<string>;
  private readonly transactionFailures: Counter<string>;
  private readonly slowQueries: Counter<string>;

  /** Loads prom-client, which is an optional peer dependency, and makes the metrics; `open` registers them. */
  static async load(options: EntitiesMetricsOptions): Promise<EntitiesMetrics> {
    const loaded = await importOptional<PromClient & { default?: PromClient }>('prom-client');
    if (!loaded) throw missingDependency('prom-client', 'EntitiesModule.forRoot({ metrics: { enabled: true } })');
    return new EntitiesMetrics(loaded.Counter ? loaded : loaded.default!, options);
  }

  private constructor(
    private readonly client: PromClient,
    options: EntitiesMetricsOptions,
  ) {
    this.registry = options.registry ?? client.register;
    const prefix = options.prefix ?? DEFAULT_METRICS_PREFIX;
    const buckets = [...(options.buckets ?? DEFAULT_LATENCY_BUCKETS)];
    const route = ['entity', 'method', 'route', 'status'];
    const name = (suffix: string) => prefix + suffix;
    // Registered by `open`, at the app's init: a build of the app's providers that fails later
    // runs no hook that could take them out again.
    const registers: Registry[] = [];

    this.requests = new client.Counter({
      name: name('http_requests_total'),
      help: 'HTTP requests answered by the generated routes',
      labelNames: route,
      registers,
    });
    this.requestDuration = new client.Histogram({
      name: name('http_request_duration_seconds'),
      help: 'Time from the route being reached to its answer being sent, in seconds',
      labelNames: route,
      buckets,
      registers,
    });
    this.operationDuration = new client.Histogram({
      name: name('storage_operation_duration_seconds'),
      help: 'Repository operations (reads, and writes up to their durable commit), in seconds',
      labelNames: ['entity', 'operation'],
      buckets,
      registers,
    });
    this.transactionDuration = new client.Histogram({
      name: name('storage_transaction_duration_seconds'),
      help: 'Write transactions, from their start to their durable commit, in seconds',
      buckets,
      registers,
    });
    this.transactionFailures = new client.Counter({
      name: name('storage_transaction_failures_total'),
      help: 'Write transactions that did not commit (refused changes included)',
      registers,
    });
    this.slowQueries = new client.Counter({
      name: name('slow_queries_total'),
      help: 'Queries slower than the slowQueryMs threshold',
      labelNames: ['entity'],
      registers,
    });
    this.owned.push(this.requests, this.requestDuration, this.operationDuration, this.transactionDuration, this.transactionFailures, this.slowQueries);
    this.cacheCounter(name('cache_hits_total'), 'Reads answered by the cache', (counts) => counts.hits);
    this.cacheCounter(name('cache_misses_total'), 'Reads the cache could not answer', (counts) => counts.misses);
    this.cacheCounter(name('cache_invalidations_total'), 'Changes that made cached reads unreachable', (counts) => counts.invalidations);
    this.storeGauge(name('event_log_events'), 'Events kept in the event log', [], (gauge, storage) => {
      const first = storage.log.firstSeq();
      gauge.set(first === 0 ? 0 : storage.log.lastSeq() - first + 1);
    });
    this.storeGauge(name('event_log_last_seq'), 'Seq of the newest event in the log', [], (gauge, storage) => gauge.set(storage.log.lastSeq()));
    this.storeGauge(name('records'), 'Records stored, per entity', ['entity'], (gauge, storage) => {
      const databases = storage.environment.stat().databases;
      for (const definition of storage.registered()) {
        gauge.set({ entity: definition.name }, databases[`${definition.name}.records`]?.entries ?? 0);
      }
    });
    this.storeGauge(name('map_size_bytes'), 'Size of the LMDB memory map (lmdb grows it as needed)', [], (gauge, storage) =>
      gauge.set(storage.environment.stat().mapSize),
    );
    this.storeGauge(name('map_used_bytes'), 'Bytes of the LMDB map in use, up to its last page', [], (gauge, storage) =>
      gauge.set(storage.environment.stat().usedBytes),
    );
    this.storeGauge(name('disk_free_bytes'), 'Free space on the file system of the data directory', [], async (gauge, storage) =>
      gauge.set(await freeDiskBytes(storage.environment.path)),
    );
  }

  /** Where the scraped figures come from; set once the store is open. */
  track(storage: EntityStorage, cache: EntityCache): void {
    this.sources = { storage, cache };
  }

  /** The observer of one route's answers. */
  route(entity: string, method: string, route: string): RequestObserver {
    const byStatus = new Map<number, { count: Counter.Internal; duration: Histogram.Internal<string> }>();
    return (status, seconds) => {
      let children = byStatus.get(status);
      if (!children) {
        const labels = [entity, method, route, String(status)];
        children = { count: this.requests.labels(...labels), duration: this.requestDuration.labels(...labels) };
        byStatus.set(status, children);
      }
      children.count.inc();
      children.duration.observe(seconds);
    };
  }

  /** The timer of one repository operation of one entity. */
  operation(entity: string, operation: string): (seconds: number) => void {
    const child = this.operationDuration.labels(entity, operation);
    return (seconds) => child.observe(seconds);
  }

  transaction(seconds: number, failed: boolean): void {
    this.transactionDuration.observe(seconds);
    if (failed) this.transactionFailures.inc();
  }

  slowQuery(entity: string): void {
    this.slowQueries.labels(entity).inc();
  }

  /** The registry in Prometheus's text format, with its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /**
   * Registers the metrics; throws, registering none, when the registry holds one of their names
   * already (another `forRoot` of this process on the same registry and prefix).
   */
  open(): void {
    if (this.registered) return;
    const taken = this.owned.find((metric) => this.registry.getSingleMetric(nameOf(metric)));
    if (taken) {
      throw new Error(
        `the metric ${nameOf(taken)} is already registered in this registry: give each EntitiesModule.forRoot of one process its own metrics registry or prefix`,
      );
    }
    for (const metric of this.owned) (this.registry as Registry).registerMetric(metric);
    this.registered = true;
  }

  /** Takes the metrics out of the registry, so another app in this process can register them again; `open` puts them back. */
  close(): void {
    for (const metric of this.registered ? this.owned : []) {
      if (this.registry.getSingleMetric(nameOf(metric)) === metric) this.registry.removeSingleMetric(nameOf(metric));
    }
    this.registered = false;
    this.sources = undefined;
  }

  /** A counter that follows one of `EntityCache.metrics()`'s per-entity totals, adding what is new at each scrape. */
  private cacheCounter(name: string, help: string, pick: (counts: EntityCacheMetrics) => number): void {
    const counted = new Map<string, number>();
    const counter: Counter<string> = new this.client.Counter({
      name,
      help,
      labelNames: ['entity'],
      registers: [],
      collect: () => {
        for (const [entity, counts] of Object.entries(this.sources?.cache.metrics() ?? {})) {
          const total = pick(counts);
          const added = total - (counted.get(entity) ?? 0);
          if (added > 0) counter.labels(entity).inc(added);
          counted.set(entity, total);
        }
      },
    });
    this.owned.push(counter);
  }

  /** A gauge read from the open store at each scrape (from a fresh snapshot, so other processes' writes count). */
  private storeGauge(name: string, help: string, labelNames: string[], read: (gauge: Gauge<string>, storage: EntityStorage) => void | Promise<void>): void {
    const gauge: Gauge<string> = new this.client.Gauge({
      name,
      help,
      labelNames,
      registers: [],
      collect: async () => {
        const storage = this.sources?.storage;
        if (!storage?.environment.isOpen) return;
        try {
          storage.renewSnapshot();
          await read(gauge, storage);
        } catch {
          // A store closing during the scrape: its gauges keep their last values rather than failing the whole scrape.
        }
      },
    });
    this.owned.push(gauge);
  }
}

function nameOf(metric: Metric): string {
  return (metric as unknown as { name: string }).name;
}
