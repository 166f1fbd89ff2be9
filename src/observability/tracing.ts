import { Attributes, Span, SpanKind, SpanStatusCode, Tracer, context, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, ReadableSpan, Span as SdkSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Context } from '@opentelemetry/api';

const SERVICE_VERSION = readVersion();

/**
 * Span processor list that tests and the shutdown path can change after the SDK started;
 * SDK 2.x fixes the processors of a provider at construction.
 */
class SwitchableSpanProcessor implements SpanProcessor {
  readonly processors = new Set<SpanProcessor>();

  onStart(span: SdkSpan, parent: Context): void {
    for (const p of this.processors) p.onStart(span, parent);
  }
  onEnd(span: ReadableSpan): void {
    for (const p of this.processors) p.onEnd(span);
  }
  async forceFlush(): Promise<void> {
    await Promise.all([...this.processors].map((p) => p.forceFlush()));
  }
  async shutdown(): Promise<void> {
    await Promise.all([...this.processors].map((p) => p.shutdown()));
  }
}

let sdk: NodeSDK | undefined;
const switchable = new SwitchableSpanProcessor();

function readVersion(): string {
  try {
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

function exportEnabled(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_TRACES_EXPORTER === 'none') return false;

  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts the OpenTelemetry SDK once per process. Must run before Nest loads so every span
 * has a provider. Spans go to OTLP over HTTP in batches when an endpoint is configured
 * (standard `OTEL_*` variables); without one, spans still carry trace ids for logs but
 * nothing is exported. `OTEL_SDK_DISABLED=true` turns tracing off entirely.
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env): void {
  if (sdk || env.OTEL_SDK_DISABLED === 'true') return;

  if (exportEnabled(env)) {
    switchable.processors.add(new BatchSpanProcessor(new OTLPTraceExporter()));
  }
  sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? 'suno-gateway',
    resource: resourceFromAttributes({
      'service.version': SERVICE_VERSION,
      'deployment.environment': env.DEPLOYMENT_ENVIRONMENT ?? env.NODE_ENV ?? 'development',
    }),
    spanProcessors: [switchable],
    instrumentations: [],
  });
  sdk.start();
}

/** Adds a processor at run time (tests use an in-memory exporter this way). */
export function addSpanProcessor(processor: SpanProcessor): () => void {
  switchable.processors.add(processor);

  return () => switchable.processors.delete(processor);
}

/** Flushes pending spans; called on shutdown so the last requests reach Jaeger. */
export async function flushTraces(): Promise<void> {
  await switchable.forceFlush();
}

export function tracer(): Tracer {
  return trace.getTracer('suno-gateway', SERVICE_VERSION);
}

export { SERVICE_VERSION };

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
}

/**
 * Runs `fn` inside a new active span and ends it in `finally`, recording an exception and
 * an error status when `fn` throws.
 */
export async function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const span = tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes });
  try {
    return await context.with(trace.setSpan(context.active(), span), () => fn(span));
  } catch (err) {
    recordFailure(span, err);
    throw err;
  } finally {
    span.end();
  }
}

export function recordFailure(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException({ name: error.name, message: error.message });
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}
