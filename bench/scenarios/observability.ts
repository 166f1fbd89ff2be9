import type { BenchContext, ScenarioOutcome, Table, TargetCheck } from '../context';
import { formatPercent, formatSpread } from '../format';
import { summarise, type CaseSummary } from '../load';
import {
  observabilityOff,
  observabilityOn,
  sinkStats,
  startGateway,
  type RunningGateway,
} from '../services';
import { ROUTES, gatewayTarget, runCases, type LoadCase, type Phase } from './read-load';

const MODES = ['on', 'off'] as const;
type Mode = (typeof MODES)[number];

/**
 * Runs the read routes through two gateways that differ only in observability: "on" exports
 * spans over OTLP/HTTP to the local sink and serves /metrics, "off" sets OTEL_SDK_DISABLED
 * and METRICS_ENABLED=false. Both log at LOG_LEVEL=warn.
 */
export async function observabilityCost(ctx: BenchContext): Promise<ScenarioOutcome> {
  const gateways: Partial<Record<Mode, RunningGateway>> = {};
  try {
    gateways.on = await startGateway(ctx.services, {
      name: 'gateway-obs-on',
      emulatorUrl: ctx.emulator.url,
      overrides: observabilityOn(ctx.sink),
    });
    gateways.off = await startGateway(ctx.services, {
      name: 'gateway-obs-off',
      emulatorUrl: ctx.emulator.url,
      overrides: observabilityOff(),
    });
    const started = { on: gateways.on, off: gateways.off };
    const cases: LoadCase[] = ROUTES.flatMap((route) =>
      MODES.map((mode) => ({
        id: `${route}/${mode}`,
        target: gatewayTarget(ctx, started[mode], route),
        countUpstream: false,
      })),
    );
    const phases: Phase[] = [
      {
        name: 'loaded',
        settings: {
          connections: ctx.options.connections,
          durationS: ctx.options.durationS,
          latencyOf: 'ok',
        },
      },
    ];
    const sinkBefore = await sinkStats(ctx.sink);
    const measured = await runCases(ctx, cases, phases);
    // Stopping the "on" gateway flushes the spans still queued in its batch processor.
    await started.on.service.stop();
    const sinkAfter = await sinkStats(ctx.sink);

    const summaries: Record<string, CaseSummary> = {};
    for (const [id, byPhase] of Object.entries(measured.runs))
      summaries[id] = summarise(byPhase.loaded);
    const onResponses = ROUTES.reduce(
      (sum, route) =>
        sum + measured.warmUpResponses[`${route}/on`] + summaries[`${route}/on`].responses,
      0,
    );
    const spansPerRequest = (sinkAfter.spans - sinkBefore.spans) / Math.max(1, onResponses);

    return {
      name: 'observability',
      settings: {
        loaded: phases[0].settings,
        on_env: started.on.env,
        off_env: started.off.env,
        exporter:
          'OTLP/HTTP in the gateway default encoding to a discarding sink on 127.0.0.1, on the load generator CPU',
      },
      figures: {
        cases: summaries,
        costs: costs(summaries),
        export: {
          spans: sinkAfter.spans - sinkBefore.spans,
          export_requests: sinkAfter.requests - sinkBefore.requests,
          bytes: sinkAfter.bytes - sinkBefore.bytes,
          spans_per_request: spansPerRequest,
          content_types: sinkAfter.content_types,
        },
      },
      tables: [figuresTable(summaries, spansPerRequest)],
      checks: checks(summaries),
    };
  } finally {
    await gateways.on?.service.stop();
    await gateways.off?.service.stop();
  }
}

interface RouteCost {
  /** 1 − on/off of the median throughputs. */
  throughput_cost: number;
  /** on/off − 1 of the median gateway CPU per request. */
  cpu_per_request_increase: number;
}

function costs(summaries: Record<string, CaseSummary>): Record<string, RouteCost> {
  return Object.fromEntries(
    ROUTES.map((route) => {
      const on = summaries[`${route}/on`];
      const off = summaries[`${route}/off`];

      return [
        route,
        {
          throughput_cost: 1 - on.rps.median / off.rps.median,
          cpu_per_request_increase:
            on.cpuUsPerResponse.gateway.median / off.cpuUsPerResponse.gateway.median - 1,
        },
      ];
    }),
  );
}

function figuresTable(summaries: Record<string, CaseSummary>, spansPerRequest: number): Table {
  const routeCosts = costs(summaries);
  const rows = ROUTES.flatMap((route) =>
    MODES.map((mode) => {
      const summary = summaries[`${route}/${mode}`];

      return [
        route,
        mode,
        formatSpread(summary.rps, 0),
        formatSpread(summary.p50Ms, 2),
        formatSpread(summary.p99Ms, 2),
        formatSpread(summary.cpuUsPerResponse.gateway, 0),
        formatSpread(summary.foreignCpuShare, 2),
        mode === 'on' ? formatPercent(routeCosts[route].throughput_cost) : '–',
        mode === 'on' ? formatPercent(routeCosts[route].cpu_per_request_increase) : '–',
      ];
    }),
  );

  return {
    title: `Observability cost (tracing exported ${spansPerRequest.toFixed(2)} spans per request to the sink)`,
    header: [
      'route',
      'tracing + metrics',
      'req/s',
      'P50 ms',
      'P99 ms',
      'gateway CPU µs/req',
      'other CPU share',
      'throughput cost',
      'CPU/req increase',
    ],
    rows,
  };
}

function checks(summaries: Record<string, CaseSummary>): TargetCheck[] {
  const routeCosts = costs(summaries);

  return ROUTES.map((route) => ({
    scenario: 'observability',
    target: `${route}: tracing + metrics cost ≤ 10% of throughput`,
    measured: formatPercent(routeCosts[route].throughput_cost),
    met: routeCosts[route].throughput_cost <= 0.1,
  }));
}
