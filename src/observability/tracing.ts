import {
  Attributes,
  Context,
  Span,
  SpanKind,
  SpanStatusCode,
  Tracer,
  context,
  trace,
} from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  BufferConfig,
  ConsoleSpanExporter,
  ReadableSpan,
  Span as SdkSpan,
  SpanExporter,
  SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { REDACTED, isSecretKey, scrubSecrets } from './redaction';

const SERVICE_VERSION = readVersion();

/**
 * Span processor list that tests and the shutdown path can change after the SDK started;
 * SDK 2.x fixes the processors of a provider at construction. It also masks credentials in
 * every span before any processor receives the span (see `scrubSpan`).
 */
class SwitchableSpanProcessor implements SpanProcessor {
  readonly processors = new Set<SpanProcessor>();

  onStart(span: SdkSpan, parent: Context): void {
    for (const p of this.processors) p.onStart(span, parent);
  }
  onEnding(span: SdkSpan): void {
    scrubSpan(span);
    for (const p of this.processors) p.onEnding?.(span);
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

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

/** Export destination of spans, as set by the standard `OTEL_*` variables. */
export type TraceExportPlan =
  | { exporter: 'none'; reason: string }
  | { exporter: 'console' }
  | { exporter: 'otlp'; protocol: OtlpProtocol; url: string };

const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

/**
 * Reads the export settings from `OTEL_TRACES_EXPORTER` (`otlp` by default, `console`, `none`),
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is) or `OTEL_EXPORTER_OTLP_ENDPOINT` (with
 * `/v1/traces` appended for HTTP), and `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL` (default
 * `http/protobuf`, as in the OpenTelemetry specification). Unlike the SDK default, OTLP
 * export is off when no endpoint is set, so a gateway without a collector sends nothing.
 *
 * @throws Error naming the variable when the exporter or the protocol is not supported.
 */
export function planTraceExport(env: NodeJS.ProcessEnv): TraceExportPlan {
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (exporters.length === 0 || exporters.includes('none'))
    return { exporter: 'none', reason: 'OTEL_TRACES_EXPORTER is none' };
  const [exporter] = exporters;
  if (exporters.length > 1 || (exporter !== 'otlp' && exporter !== 'console')) {
    throw new Error(
      `OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER} is not supported. Use one of otlp, console, none.`,
    );
  }
  if (exporter === 'console') return { exporter: 'console' };

  const protocolVariable =
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL === undefined
      ? 'OTEL_EXPORTER_OTLP_PROTOCOL'
      : 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL';
  const protocolValue = (env[protocolVariable] ?? 'http/protobuf').trim();
  const protocol = PROTOCOLS.find((p) => p === protocolValue);
  if (!protocol) {
    throw new Error(
      `${protocolVariable}=${protocolValue} is not supported. Use one of ${PROTOCOLS.join(', ')}.`,
    );
  }
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (tracesEndpoint) return { exporter: 'otlp', protocol, url: tracesEndpoint };
  if (!endpoint) return { exporter: 'none', reason: 'no OTLP endpoint is set' };
  const url = protocol === 'grpc' ? endpoint : `${endpoint.replace(/\/+$/, '')}/v1/traces`;

  return { exporter: 'otlp', protocol, url };
}

/**
 * Builds the exporter of a plan. The OTLP packages are loaded on demand because the gRPC one
 * pulls in a large client. Headers, timeout and compression still come from the standard
 * variables in `process.env`, which the exporters read themselves.
 */
function createExporter(plan: Exclude<TraceExportPlan, { exporter: 'none' }>): SpanExporter {
  if (plan.exporter === 'console') return new ConsoleSpanExporter();
  type ExporterClass = new (config: { url: string }) => SpanExporter;
  switch (plan.protocol) {
    case 'http/json':
      return new (
        require('@opentelemetry/exporter-trace-otlp-http') as { OTLPTraceExporter: ExporterClass }
      ).OTLPTraceExporter({ url: plan.url });
    case 'http/protobuf':
      return new (
        require('@opentelemetry/exporter-trace-otlp-proto') as { OTLPTraceExporter: ExporterClass }
      ).OTLPTraceExporter({ url: plan.url });
    case 'grpc':
      return new (
        require('@opentelemetry/exporter-trace-otlp-grpc') as { OTLPTraceExporter: ExporterClass }
      ).OTLPTraceExporter({ url: plan.url });
    default: {
      const unknownProtocol: never = plan.protocol;
      throw new Error(`unknown OTLP protocol ${String(unknownProtocol)}`);
    }
  }
}

const BATCH_VARIABLES = {
  scheduledDelayMillis: 'OTEL_BSP_SCHEDULE_DELAY',
  exportTimeoutMillis: 'OTEL_BSP_EXPORT_TIMEOUT',
  maxQueueSize: 'OTEL_BSP_MAX_QUEUE_SIZE',
  maxExportBatchSize: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
} as const satisfies Record<keyof BufferConfig, string>;

/** Batch settings from the standard `OTEL_BSP_*` variables of `env`; unset ones fall back to `process.env` and the SDK defaults. */
function batchConfig(env: NodeJS.ProcessEnv): BufferConfig {
  const config: BufferConfig = {};
  for (const [option, variable] of Object.entries(BATCH_VARIABLES) as Array<
    [keyof BufferConfig, string]
  >) {
    const value = Number(env[variable]);
    if (env[variable] !== undefined && env[variable] !== '' && Number.isFinite(value) && value >= 0)
      config[option] = value;
  }

  return config;
}

/**
 * Starts the OpenTelemetry SDK once per process. `main.ts` runs it before Nest loads, so every
 * span has a provider. Spans carry trace ids for logs and exemplars in any case; they are
 * exported in batches when `planTraceExport` finds a destination. The resource has
 * `service.name` (`OTEL_SERVICE_NAME`, default `suno-gateway`), `service.version` and
 * `deployment.environment` (`DEPLOYMENT_ENVIRONMENT`, else `NODE_ENV`). The incoming
 * `traceparent` is read by the W3C propagator that the SDK installs by default.
 * `OTEL_SDK_DISABLED=true` turns tracing off entirely.
 *
 * @throws Error when an `OTEL_*` export variable has an unsupported value.
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env): void {
  if (sdk || env.OTEL_SDK_DISABLED === 'true') return;

  const plan = planTraceExport(env);
  if (plan.exporter !== 'none') {
    switchable.processors.add(new BatchSpanProcessor(createExporter(plan), batchConfig(env)));
  }
  const environment = env.DEPLOYMENT_ENVIRONMENT ?? env.NODE_ENV ?? 'development';
  sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? 'suno-gateway',
    resource: resourceFromAttributes({
      'service.version': SERVICE_VERSION,
      'deployment.environment': environment,
      'deployment.environment.name': environment,
    }),
    spanProcessors: [switchable],
    // Metrics are served by prom-client on /metrics; without these empty lists the SDK would
    // add an OTLP metric reader and log exporter of its own.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
}

/** Adds a processor at run time (tests use an in-memory exporter this way). */
export function addSpanProcessor(processor: SpanProcessor): () => void {
  switchable.processors.add(processor);

  return () => switchable.processors.delete(processor);
}

/** Exports pending spans; the shutdown sequence calls it so the last requests reach the collector. */
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
export async function withSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(name, {
    kind: options.kind ?? SpanKind.INTERNAL,
    attributes: options.attributes,
  });
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
  const message = scrubSecrets(error.message);
  span.recordException({ name: error.name, message });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/**
 * Masks credentials in a span that is ending, before any exporter receives it. Values of
 * secret keys become `[REDACTED]`. JWTs, Clerk cookies, `sess_` ids and bearer tokens are
 * masked in the name, in every string attribute and event attribute, and in the status
 * message. The Clerk token path (`/v1/client/sessions/sess_…/tokens`) is one such attribute.
 */
export function scrubSpan(span: SdkSpan): void {
  const name = scrubSecrets(span.name);
  if (name !== span.name) span.updateName(name);
  for (const [key, value] of Object.entries(span.attributes)) {
    const clean = scrubAttribute(key, value);
    if (clean !== value && clean !== undefined) span.setAttribute(key, clean);
  }
  for (const event of span.events) {
    const attributes = event.attributes as Attributes | undefined;
    if (!attributes) continue;
    for (const [key, value] of Object.entries(attributes))
      attributes[key] = scrubAttribute(key, value);
  }
  const message = span.status.message;
  if (message !== undefined && scrubSecrets(message) !== message)
    span.setStatus({ ...span.status, message: scrubSecrets(message) });
}

function scrubAttribute(key: string, value: Attributes[string]): Attributes[string] {
  const lastSegment = key.split('.').pop() ?? key;
  if (isSecretKey(lastSegment)) return REDACTED;
  if (typeof value === 'string') return scrubSecrets(value);
  if (Array.isArray(value))
    return value.map((item) =>
      typeof item === 'string' ? scrubSecrets(item) : item,
    ) as Attributes[string];

  return value;
}
