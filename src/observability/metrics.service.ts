import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { METRICS, MetricSpec } from './metrics.catalog';

type Spec = (typeof METRICS)[keyof typeof METRICS];
type Instrument<S extends Spec> = S['kind'] extends 'counter'
  ? Counter<S['labels'][number]>
  : S['kind'] extends 'gauge'
    ? Gauge<S['labels'][number]>
    : Histogram<S['labels'][number]>;
type Instruments = { [K in keyof typeof METRICS]: Instrument<(typeof METRICS)[K]> };

/**
 * Owns the Prometheus registry. Each gateway instance (and each test app) gets its own
 * registry, so tests that start several apps in one process do not share counters.
 */
@Injectable()
export class MetricsService {
  /** Prometheus text format; exemplars are left out. */
  readonly registry = new Registry();
  /** The same instruments in OpenMetrics format, which carries exemplars. */
  readonly openMetricsRegistry = createOpenMetricsRegistry();
  readonly m: Instruments;
  /** prom-client refuses exemplars in a Prometheus-format registry, so those histograms have a twin there. */
  private readonly twins = new Map<Histogram, Histogram>();
  /** Catalog names of the counters shared by both registries, see `render`. */
  private readonly counterNames = new Map<Counter, string>();
  private lastRender: Promise<unknown> = Promise.resolve();

  constructor() {
    for (const register of [this.registry, this.openMetricsRegistry]) {
      collectDefaultMetrics({ register, eventLoopMonitoringPrecision: 20 });
    }
    const entries = Object.entries(METRICS).map(([key, spec]) => [key, this.create(spec)]);
    this.m = Object.fromEntries(entries) as Instruments;
  }

  /** Records a latency and, when the request was traced, its trace id as the bucket's exemplar. Only for histograms created with exemplars. */
  observe<L extends string>(
    histogram: Histogram<L>,
    labels: Partial<Record<L, string | number>>,
    seconds: number,
    traceId?: string,
  ): void {
    // prom-client 15 types exemplar labels as the metric's own label names, which is wrong.
    const exemplarLabels = (traceId ? { trace_id: traceId } : {}) as Partial<Record<L, string>>;
    histogram.observe({ labels, value: seconds, exemplarLabels });
    this.twins
      .get(histogram as Histogram)
      ?.observe(labels as Record<string, string | number>, seconds);
  }

  /**
   * Renders the exposition in the format the scraper prefers. Renders run one at a time:
   * prom-client strips `_total` from the shared counters' names while it writes OpenMetrics,
   * and the names are restored before the next render.
   */
  render(accept: string | undefined): Promise<{ contentType: string; body: string }> {
    const registry = prefersOpenMetrics(accept) ? this.openMetricsRegistry : this.registry;
    const rendered = this.lastRender.then(async () => {
      try {
        return { contentType: registry.contentType, body: await registry.metrics() };
      } finally {
        this.restoreCounterNames();
      }
    });
    this.lastRender = rendered.catch(() => undefined);

    return rendered;
  }

  private restoreCounterNames(): void {
    for (const [counter, name] of this.counterNames)
      (counter as unknown as { name: string }).name = name;
  }

  private createHistogram(
    spec: MetricSpec,
    common: { name: string; help: string; labelNames: string[] },
  ): Histogram {
    const buckets = [...(spec.buckets ?? [])];
    if (!spec.exemplars)
      return new Histogram({
        ...common,
        buckets,
        registers: [this.registry, this.openMetricsRegistry],
      });
    const withExemplars = new Histogram({
      ...common,
      buckets,
      enableExemplars: true,
      registers: [this.openMetricsRegistry],
    });
    this.twins.set(
      withExemplars,
      new Histogram({ ...common, buckets, registers: [this.registry] }),
    );

    return withExemplars;
  }

  private create(spec: MetricSpec) {
    const common = {
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labels],
      registers: [this.registry, this.openMetricsRegistry],
    };
    switch (spec.kind) {
      case 'counter': {
        const counter = new Counter(common);
        this.counterNames.set(counter, spec.name);

        return counter;
      }
      case 'gauge':
        return new Gauge(common);
      case 'histogram':
        return this.createHistogram(spec, common);
      default: {
        const unknownKind: never = spec.kind;
        throw new Error(`unknown metric kind ${String(unknownKind)}`);
      }
    }
  }
}

/** prom-client 15 accepts the content type at run time but its typings omit the argument. */
function createOpenMetricsRegistry(): Registry {
  const RegistryWithType = Registry as unknown as new (contentType: string) => Registry;

  return new RegistryWithType(Registry.OPENMETRICS_CONTENT_TYPE);
}

/**
 * Returns whether an `Accept` header ranks OpenMetrics at least as high as every other acceptable
 * type, by q-value. Prometheus sends OpenMetrics first when exemplar storage or native
 * histograms are on; a scraper that names only text/plain gets the Prometheus text format.
 */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let openMetrics = 0;
  let others = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === 'application/openmetrics-text') openMetrics = Math.max(openMetrics, q);
    else others = Math.max(others, q);
  }

  return openMetrics > 0 && openMetrics >= others;
}
