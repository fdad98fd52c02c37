import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import {
  context,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type ContextManager,
  type Exception,
  type Span,
  type SpanAttributeValue,
  type SpanContext,
  type SpanKind,
  type SpanOptions,
  type SpanStatus,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';

/**
 * A span as a test reads it back. Implements `@opentelemetry/api`'s `Span` directly: no SDK
 * is installed, and the package must work against the API alone.
 */
export class RecordedSpan implements Span {
  readonly attributes: Attributes;
  readonly events: string[] = [];
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  ended = false;

  constructor(
    public name: string,
    readonly kind: SpanKind | undefined,
    attributes: Attributes | undefined,
    /** The span context of the parent, when the span started inside another. */
    readonly parent: SpanContext | undefined,
    private readonly context: SpanContext,
  ) {
    this.attributes = { ...attributes };
  }

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: SpanAttributeValue): this {
    this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    Object.assign(this.attributes, attributes);
    return this;
  }

  addEvent(name: string): this {
    this.events.push(name);
    return this;
  }

  addLink(): this {
    return this;
  }

  addLinks(): this {
    return this;
  }

  setStatus(status: SpanStatus): this {
    this.status = status;
    return this;
  }

  updateName(name: string): this {
    this.name = name;
    return this;
  }

  end(): void {
    if (this.ended) throw new Error(`span ${this.name} ended twice`);
    this.ended = true;
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception): void {
    this.events.push(`exception: ${typeof exception === 'string' ? exception : exception.message}`);
  }
}

/** A tracer that keeps every span it starts, parented by the active context as the API says. */
export class RecordingTracer implements Tracer, TracerProvider {
  readonly spans: RecordedSpan[] = [];

  getTracer(): Tracer {
    return this;
  }

  startSpan(name: string, options: SpanOptions = {}, parentContext: Context = context.active()): RecordedSpan {
    const parent = trace.getSpanContext(parentContext);
    const spanContext: SpanContext = {
      traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      traceFlags: TraceFlags.SAMPLED,
    };
    const span = new RecordedSpan(name, options.kind, options.attributes, parent, spanContext);
    this.spans.push(span);
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest.pop() as F;
    const [options, parentContext] = rest as [SpanOptions | undefined, Context | undefined];
    const span = this.startSpan(name, options, parentContext);
    return context.with(trace.setSpan(parentContext ?? context.active(), span), () => fn(span)) as ReturnType<F>;
  }

  /** The spans started since `from`, each with the name of its parent (if recorded here). */
  since(from: number): { span: RecordedSpan; parentName?: string }[] {
    return this.spans.slice(from).map((span) => ({
      span,
      parentName: this.spans.find((other) => other.spanContext().spanId === span.parent?.spanId)?.name,
    }));
  }
}

/** A context manager on AsyncLocalStorage, as the Node SDK's: the active span follows awaits. */
export class AsyncLocalContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(active: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(active, () => fn.call(thisArg, ...args));
  }

  bind<T>(active: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const run = (...args: unknown[]) => this.with(active, () => (target as (...args: unknown[]) => unknown)(...args));
    return run as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }
}

/** Installs a recording tracer and an async context manager as the process's OpenTelemetry globals. */
export function installRecordingTracer(): { tracer: RecordingTracer; uninstall: () => void } {
  const tracer = new RecordingTracer();
  if (!trace.setGlobalTracerProvider(tracer)) throw new Error('a tracer provider is already registered');
  if (!context.setGlobalContextManager(new AsyncLocalContextManager())) throw new Error('a context manager is already registered');
  return {
    tracer,
    uninstall: () => {
      trace.disable();
      context.disable();
    },
  };
}
