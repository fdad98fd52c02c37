/**
 * The part of a prom-client `Registry` the package uses: pass `new Registry()` or
 * prom-client's global `register`. Declared here so the package's types do not need
 * prom-client installed.
 */
export interface MetricsRegistry {
  readonly contentType: string;
  metrics(): Promise<string>;
  getSingleMetric(name: string): unknown;
  removeSingleMetric(name: string): void;
}

/** `forRoot({ metrics })`: Prometheus metrics through prom-client, an optional peer dependency. */
export interface EntitiesMetricsOptions {
  /** Collect metrics. Needs `prom-client` installed (start-up fails naming it otherwise). Default `false`. */
  enabled: boolean;
  /**
   * The route that serves the registry in Prometheus's text format, e.g. `'/metrics'`, or
   * `false` for none: another module (such as `@willsoto/nestjs-prometheus`) serves the same
   * registry. Default `'/metrics'`. With `forRootAsync`, give the route as `metricsPath`
   * beside `useFactory` instead, since routes are fixed before the factory runs.
   */
  path?: string | false;
  /** Where the metrics are registered. Default: prom-client's global `register`. */
  registry?: MetricsRegistry;
  /** Prefix of every metric name. Default `'entities_'`. */
  prefix?: string;
  /** Upper bounds of the latency histograms' buckets, in seconds. Default from 0.5 ms to 5 s. */
  buckets?: readonly number[];
}
