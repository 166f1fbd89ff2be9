import { Counter, Gauge, Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { METRICS } from '../observability/metrics.catalog';
import { UpstreamError, UpstreamErrorOptions } from '../suno/upstream-error';

/** Builds a complete AppConfig for resilience specs. Only the `resilience` section matters here. */
export function resilienceTestConfig(overrides: Partial<AppConfig['resilience']> = {}): AppConfig {
  return {
    env: 'test',
    server: {
      host: '127.0.0.1',
      port: 0,
      bodyLimitBytes: 1_048_576,
      shutdownDrainMs: 0,
      shutdownWaitCapMs: 0,
    },
    health: { maxHeapBytes: 1024 * 1024 * 1024, maxEventLoopDelayMs: 2_000 },
    auth: { disabled: true, apiKeys: [] },
    upstream: {
      baseUrl: 'http://127.0.0.1:1',
      authUrl: 'http://127.0.0.1:1',
      clerkJsVersion: '5.0.0',
      clerkApiVersion: '2025-01-01',
      userAgent: 'suno-gateway-test',
      connectTimeoutMs: 1000,
      authTimeoutMs: 5000,
      readTimeoutMs: 10_000,
      submitTimeoutMs: 30_000,
      maxSockets: 10,
      maxSocketsPerHost: 10,
      freeSocketTimeoutMs: 15_000,
    },
    resilience: {
      maxAttempts: 3,
      backoffBaseMs: 200,
      backoffMaxMs: 5000,
      retryBudgetRatio: 0.1,
      retryBudgetMinRetries: 100,
      retryBudgetWindowMs: 60_000,
      breakerThreshold: 5,
      breakerOpenMs: 10_000,
      bulkheadLimit: 10,
      bulkheadQueue: 20,
      bulkheadQueueTimeoutMs: 10_000,
      ...overrides,
    },
    session: {
      refreshAheadMs: 30_000,
      backgroundRefresh: false,
      retryBaseMs: 1000,
      retryMaxMs: 60_000,
      captchaCoolDownMs: 300_000,
    },
    accounts: [],
    generation: {
      waitBudgetMs: 25_000,
      maxWaitBudgetMs: 55_000,
      pollIntervalMs: 2000,
      maxAgeMs: 600_000,
    },
    creditsRefreshMs: 0,
    idempotency: { ttlMs: 86_400_000 },
    log: { level: 'silent', pretty: false },
    metrics: { enabled: true },
  };
}

/** Builds an UpstreamError for `studio`/`feed` unless the options override them. */
export function upstreamError(
  options: Partial<UpstreamErrorOptions> & Pick<UpstreamErrorOptions, 'kind'>,
): UpstreamError {
  return new UpstreamError({
    operation: 'feed',
    host: 'studio',
    message: `fake ${options.kind} failure`,
    ...options,
  });
}

/** Builds the UpstreamError of an upstream HTTP response with `status`. */
export function httpError(status: number, retryAfterMs?: number): UpstreamError {
  return upstreamError({ kind: 'http', status, retryAfterMs });
}

/** The part of a prom-client counter or gauge that specs read. */
interface ReadableMetric {
  get(): Promise<{
    values: Array<{ labels: Partial<Record<string, string | number>>; value: number }>;
  }>;
}

/** Returns the value of the series whose labels include `labels`; 0 when there is none. */
export async function seriesValue(
  metric: ReadableMetric,
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await metric.get();
  const series = values.find((entry) =>
    Object.entries(labels).every(([name, value]) => entry.labels[name] === value),
  );

  return series?.value ?? 0;
}

interface InstrumentSpec<L extends string> {
  name: string;
  help: string;
  labels: readonly L[];
}

function counter<L extends string>(spec: InstrumentSpec<L>, registry: Registry): Counter<L> {
  return new Counter({
    name: spec.name,
    help: spec.help,
    labelNames: [...spec.labels],
    registers: [registry],
  });
}

function gauge<L extends string>(spec: InstrumentSpec<L>, registry: Registry): Gauge<L> {
  return new Gauge({
    name: spec.name,
    help: spec.help,
    labelNames: [...spec.labels],
    registers: [registry],
  });
}

/** Real prom-client instruments for the breakers and bulkheads, in a registry of their own. */
export function resilienceInstruments() {
  const registry = new Registry();

  return {
    circuitBreakerState: gauge(METRICS.circuitBreakerState, registry),
    circuitBreakerTransitions: counter(METRICS.circuitBreakerTransitions, registry),
    bulkheadRejections: counter(METRICS.bulkheadRejections, registry),
  };
}
