import type { BenchContext, ScenarioOutcome, Table, TargetCheck } from '../context';
import { formatNumber, formatPercent, formatSpread } from '../format';
import { summarise, type CaseSummary, type LoadTarget } from '../load';
import { observabilityOn, startGateway, startMinimalProxy } from '../services';
import {
  ROUTES,
  gatewayTarget,
  runCases,
  upstreamPath,
  upstreamPerCallSpread,
  type LoadCase,
  type Phase,
  type ReadRoute,
} from './read-load';

const TARGETS = ['gateway', 'direct', 'minimal-proxy'] as const;
type TargetName = (typeof TARGETS)[number];

/** The process in front of the emulator, by target; direct calls have none. */
const FRONT_PROCESS: Record<TargetName, string | undefined> = {
  gateway: 'gateway',
  direct: undefined,
  'minimal-proxy': 'proxy',
};

const LOADED = 'loaded';
const SINGLE = 'single';

/**
 * Read routes through the gateway, straight to the emulator, and through the minimal proxy.
 * `loaded` runs use the configured connections (throughput and latency under load);
 * `single` runs use one connection (latency without queueing).
 */
export async function readOverhead(ctx: BenchContext): Promise<ScenarioOutcome> {
  const gateway = await startGateway(ctx.services, {
    name: 'gateway-read',
    emulatorUrl: ctx.emulator.url,
    overrides: observabilityOn(ctx.sink),
  });
  const proxy = await startMinimalProxy(ctx.services, {
    emulatorUrl: ctx.emulator.url,
    jwt: ctx.jwt,
  });
  try {
    const emulatorPid = ctx.emulator.service.pid;
    const upstreamTarget = (
      base: string,
      route: ReadRoute,
      headers: Record<string, string>,
      front?: number,
    ): LoadTarget => ({
      url: `${base}${upstreamPath(route, ctx.clipIds)}`,
      headers,
      processes:
        front === undefined ? { emulator: emulatorPid } : { proxy: front, emulator: emulatorPid },
    });
    const cases: LoadCase[] = ROUTES.flatMap((route) => [
      { id: `${route}/gateway`, target: gatewayTarget(ctx, gateway, route), countUpstream: true },
      {
        id: `${route}/direct`,
        target: upstreamTarget(ctx.emulator.url, route, { authorization: `Bearer ${ctx.jwt}` }),
        countUpstream: false,
      },
      {
        id: `${route}/minimal-proxy`,
        target: upstreamTarget(proxy.url, route, {}, proxy.service.pid),
        countUpstream: false,
      },
    ]);
    const phases: Phase[] = [
      {
        name: LOADED,
        settings: {
          connections: ctx.options.connections,
          durationS: ctx.options.durationS,
          latencyOf: 'ok',
        },
      },
      {
        name: SINGLE,
        settings: {
          connections: 1,
          durationS: Math.max(1, Math.floor(ctx.options.durationS / 2)),
          latencyOf: 'ok',
        },
      },
    ];
    const measured = await runCases(ctx, cases, phases);

    const summaries: Record<string, Record<string, CaseSummary>> = {};
    for (const [id, byPhase] of Object.entries(measured.runs)) {
      summaries[id] = {
        [LOADED]: summarise(byPhase[LOADED]),
        [SINGLE]: summarise(byPhase[SINGLE]),
      };
    }
    const upstreamPerCall = Object.fromEntries(
      ROUTES.map((route) => [
        route,
        upstreamPerCallSpread(measured.runs[`${route}/gateway`][LOADED]),
      ]),
    );

    return {
      name: 'read-overhead',
      settings: {
        ...phaseSettings(phases),
        gateway_env: gateway.env,
        observability: 'on: OTLP/HTTP export to the local sink, /metrics served',
      },
      figures: {
        cases: summaries,
        ratios: ratios(summaries),
        gateway_upstream_calls_per_request: upstreamPerCall,
      },
      tables: [figuresTable(summaries), ratiosTable(summaries)],
      checks: checks(summaries, ctx.options.connections),
    };
  } finally {
    await gateway.service.stop();
    await proxy.service.stop();
  }
}

function phaseSettings(phases: Phase[]): Record<string, unknown> {
  return Object.fromEntries(phases.map((phase) => [phase.name, phase.settings]));
}

interface RouteRatios {
  gateway_over_direct_rps: number;
  gateway_over_proxy_rps: number;
  p99_overhead_vs_direct_ms: number;
  p99_overhead_vs_proxy_ms: number;
  p99_overhead_vs_direct_single_ms: number;
}

function ratios(
  summaries: Record<string, Record<string, CaseSummary>>,
): Record<ReadRoute, RouteRatios> {
  const pick = (route: ReadRoute, target: TargetName, phase: string) =>
    summaries[`${route}/${target}`][phase];
  const entries = ROUTES.map((route) => {
    const gateway = pick(route, 'gateway', LOADED);
    const direct = pick(route, 'direct', LOADED);
    const proxy = pick(route, 'minimal-proxy', LOADED);

    return [
      route,
      {
        gateway_over_direct_rps: gateway.rps.median / direct.rps.median,
        gateway_over_proxy_rps: gateway.rps.median / proxy.rps.median,
        p99_overhead_vs_direct_ms: gateway.p99Ms.median - direct.p99Ms.median,
        p99_overhead_vs_proxy_ms: gateway.p99Ms.median - proxy.p99Ms.median,
        p99_overhead_vs_direct_single_ms:
          pick(route, 'gateway', SINGLE).p99Ms.median - pick(route, 'direct', SINGLE).p99Ms.median,
      },
    ];
  });

  return Object.fromEntries(entries) as Record<ReadRoute, RouteRatios>;
}

function figuresTable(summaries: Record<string, Record<string, CaseSummary>>): Table {
  const rows = ROUTES.flatMap((route) =>
    TARGETS.map((target) => {
      const loaded = summaries[`${route}/${target}`][LOADED];
      const single = summaries[`${route}/${target}`][SINGLE];
      const front = FRONT_PROCESS[target];

      return [
        route,
        target,
        formatSpread(loaded.rps, 0),
        formatSpread(loaded.p50Ms, 2),
        formatSpread(loaded.p90Ms, 2),
        formatSpread(loaded.p99Ms, 2),
        formatSpread(single.p50Ms, 2),
        formatSpread(single.p99Ms, 2),
        front === undefined ? '–' : formatSpread(loaded.cpuUsPerResponse[front], 0),
        formatSpread(loaded.cpuUsPerResponse.emulator, 0),
        formatSpread(loaded.cpuShare.client, 2),
        formatSpread(loaded.foreignCpuShare, 2),
      ];
    }),
  );

  return {
    title: 'Read overhead: throughput and latency',
    header: [
      'route',
      'target',
      'req/s',
      'P50 ms',
      'P90 ms',
      'P99 ms',
      'P50 ms, 1 conn',
      'P99 ms, 1 conn',
      'front CPU µs/req',
      'emulator CPU µs/req',
      'client CPU share',
      'other CPU share',
    ],
    rows,
  };
}

function ratiosTable(summaries: Record<string, Record<string, CaseSummary>>): Table {
  const all = ratios(summaries);

  return {
    title: 'Read overhead: gateway compared (medians)',
    header: [
      'route',
      'gateway/direct req/s',
      'gateway/minimal-proxy req/s',
      'P99 overhead vs direct',
      'P99 overhead vs minimal proxy',
      'P99 overhead vs direct, 1 conn',
    ],
    rows: ROUTES.map((route) => [
      route,
      formatPercent(all[route].gateway_over_direct_rps),
      formatPercent(all[route].gateway_over_proxy_rps),
      `${formatNumber(all[route].p99_overhead_vs_direct_ms, 2)} ms`,
      `${formatNumber(all[route].p99_overhead_vs_proxy_ms, 2)} ms`,
      `${formatNumber(all[route].p99_overhead_vs_direct_single_ms, 2)} ms`,
    ]),
  };
}

function checks(
  summaries: Record<string, Record<string, CaseSummary>>,
  connections: number,
): TargetCheck[] {
  const all = ratios(summaries);

  return ROUTES.flatMap((route): TargetCheck[] => [
    {
      scenario: 'read-overhead',
      target: `${route}: gateway req/s ≥ 50% of direct`,
      measured: formatPercent(all[route].gateway_over_direct_rps),
      met: all[route].gateway_over_direct_rps >= 0.5,
    },
    {
      scenario: 'read-overhead',
      target: `${route}: gateway req/s ≥ 80% of minimal proxy`,
      measured: formatPercent(all[route].gateway_over_proxy_rps),
      met: all[route].gateway_over_proxy_rps >= 0.8,
    },
    {
      scenario: 'read-overhead',
      target: `${route}: P99 overhead < 5 ms at ${connections} connections`,
      measured: `${formatNumber(all[route].p99_overhead_vs_direct_ms, 2)} ms`,
      met: all[route].p99_overhead_vs_direct_ms < 5,
    },
  ]);
}
