import type { Attributes, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import { EntitiesMetrics } from './entities-metrics.service.js';
import type { EntitiesModuleOptions } from '../common/entities-module-options.interface.js';
import type { StorageObserver } from '../common/storage-options.interface.js';
import { EntitiesLogger } from '../common/entities.logger.js';
import { importOptional, missingDependency } from '../common/optional-dependency.util.js';
import { currentRequestId, runSynchronouslyAs } from '../common/request-context.util.js';
import type { OperationObserver, RepositoryOperation } from '../repository/operation-observer.interface.js';

type OpenTelemetryApi = typeof import('@opentelemetry/api');

export const DEFAULT_SLOW_QUERY_MS = 500;
const TRACER_NAME = 'nestjs-declarative-entities';

/** Extra description of a query, computed only when a span records it or the query was slow. */
export type QueryDescription = () => string;

/**
 * What one `forRoot` measures and traces: Prometheus metrics (when enabled), OpenTelemetry
 * spans (when `@opentelemetry/api` is installed; they record once the app registers a
 * tracer provider) and slow-query warnings. Both optional dependencies are loaded here,
 * once, at start-up, so the hot path never waits on an import.
 */
export class EntitiesTelemetry implements StorageObserver, OperationObserver {
  private readonly logger = new EntitiesLogger('EntitiesQuery');
  private readonly tracer?: Tracer;
  private readonly timers = new Map<string, Map<RepositoryOperation, (seconds: number) => void>>();
  /** What the API answers for the provider until the app registers one. */
  private readonly noopProvider?: TracerProvider;

  static async create(options: EntitiesModuleOptions): Promise<EntitiesTelemetry> {
    const metrics = options.metrics?.enabled ? await EntitiesMetrics.load(options.metrics) : undefined;
    let api: OpenTelemetryApi | undefined;
    if (options.tracing !== false) {
      api = await importOptional<OpenTelemetryApi>('@opentelemetry/api');
      if (!api && options.tracing === true) throw missingDependency('@opentelemetry/api', 'EntitiesModule.forRoot({ tracing: true })');
    }
    const slowQueryMs = options.slowQueryMs === false ? undefined : (options.slowQueryMs ?? DEFAULT_SLOW_QUERY_MS);
    return new EntitiesTelemetry(metrics, api, slowQueryMs);
  }

  private constructor(
    /** The Prometheus metrics, when `metrics.enabled`. */
    readonly metrics?: EntitiesMetrics,
    private readonly api?: OpenTelemetryApi,
    /** Queries taking at least this long are logged as warnings; `undefined`: never. */
    readonly slowQueryMs?: number,
  ) {
    this.tracer = api?.trace.getTracer(TRACER_NAME);
    this.noopProvider = api && new api.ProxyTracerProvider().getDelegate();
  }

  /**
   * Runs one repository operation in a span named `<operation> <entity>` (the current span
   * while it runs, so the storage transaction nests under it), timed into the operation's
   * histogram. A `describe`d query also gets its plan on the span and a warning when it is slow.
   */
  operation<R>(entity: string, operation: RepositoryOperation, run: () => Promise<R>, describe?: QueryDescription): Promise<R> {
    const observe = this.metrics && this.timerOf(entity, operation);
    const timed = observe !== undefined || (describe !== undefined && this.slowQueryMs !== undefined);
    const tracing = this.tracing();
    // Not an async function: an operation nobody times or traces must cost no promise of its own.
    if (!tracing && !timed) return run();
    return this.observedOperation(entity, operation, observe, run, tracing, describe);
  }

  /** The histogram child of one entity's operation, bound to its labels on first use. */
  private timerOf(entity: string, operation: RepositoryOperation): (seconds: number) => void {
    let timers = this.timers.get(entity);
    if (!timers) this.timers.set(entity, (timers = new Map()));
    let timer = timers.get(operation);
    if (!timer) timers.set(operation, (timer = this.metrics!.operation(entity, operation)));
    return timer;
  }

  private async observedOperation<R>(
    entity: string,
    operation: string,
    observe: ((seconds: number) => void) | undefined,
    run: () => Promise<R>,
    tracing: boolean,
    describe?: QueryDescription,
  ): Promise<R> {
    const started = performance.now();
    // Read now: by default the request's id is only known until the operation first waits.
    const requestId = currentRequestId();
    const span = tracing ? this.startSpan(`${operation} ${entity}`, { 'db.collection.name': entity, 'db.operation.name': operation }) : undefined;
    let result: R;
    try {
      result = await this.within(span, run);
    } catch (error) {
      this.fail(span, error);
      span?.end();
      throw error;
    } finally {
      observe?.((performance.now() - started) / 1000);
    }
    const elapsed = performance.now() - started;
    const slow = describe !== undefined && this.slowQueryMs !== undefined && elapsed >= this.slowQueryMs;
    if (describe && (slow || span?.isRecording())) {
      const description = describe();
      span?.setAttribute('entities.query.plan', description);
      if (slow) {
        this.metrics?.slowQuery(entity);
        const line = `slow query: ${operation} on ${entity} took ${elapsed.toFixed(1)} ms (slowQueryMs ${this.slowQueryMs}); ${description}`;
        runSynchronouslyAs(requestId, () => this.logger.warn(line));
      }
    }
    span?.end();
    return result;
  }

  /** Times and traces one write transaction, up to its durable commit. */
  async transaction<R>(run: () => Promise<R>): Promise<R> {
    const tracing = this.tracing();
    if (!tracing && !this.metrics) return run();
    const started = performance.now();
    const span = tracing ? this.startSpan('transaction', { 'db.operation.name': 'transaction' }) : undefined;
    let failed = false;
    try {
      return await this.within(span, run);
    } catch (error) {
      failed = true;
      this.fail(span, error);
      throw error;
    } finally {
      this.metrics?.transaction((performance.now() - started) / 1000, failed);
      span?.end();
    }
  }

  /** Registers the metrics, at the app's init (again after `close`, for an init run again after a failed one). */
  open(): void {
    this.metrics?.open();
  }

  close(): void {
    this.metrics?.close();
  }

  /** @internal Whether operations make spans now, which need the request's id across awaits. */
  spansRecord(): boolean {
    return this.tracing();
  }

  /**
   * Whether spans can record: a tracer provider is registered. Until then every span would be
   * a no-op that still costs a context switch per operation, so none is made.
   */
  private tracing(): boolean {
    if (!this.tracer) return false;
    const provider = this.api!.trace.getTracerProvider() as Partial<InstanceType<OpenTelemetryApi['ProxyTracerProvider']>>;
    return provider.getDelegate?.() !== this.noopProvider;
  }

  private startSpan(name: string, attributes: Attributes): Span {
    const requestId = currentRequestId();
    return this.tracer!.startSpan(name, {
      kind: this.api!.SpanKind.INTERNAL,
      attributes: { 'db.system.name': 'lmdb', ...attributes, ...(requestId !== undefined && { 'entities.request.id': requestId }) },
    });
  }

  private within<R>(span: Span | undefined, run: () => Promise<R>): Promise<R> {
    if (!span) return run();
    const { context, trace } = this.api!;
    return context.with(trace.setSpan(context.active(), span), run);
  }

  private fail(span: Span | undefined, error: unknown): void {
    if (!span) return;
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: this.api!.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
}
