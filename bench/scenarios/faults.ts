import type { BenchContext, ScenarioOutcome, Table, TargetCheck } from '../context';
import type { FaultSpec } from '../emulator-client';
import { formatNumber, formatPercent, formatSpread } from '../format';
import { summarise, type CaseSummary } from '../load';
import { observabilityOn, startGateway } from '../services';
import { spread, type Spread } from '../stats';
import {
  ROUTES,
  gatewayTarget,
  runCases,
  scrapeMetrics,
  sumCounterBy,
  upstreamPerCallSpread,
  type LoadCase,
  type MeasuredRun,
  type Phase,
} from './read-load';

const FAULTED_ROUTES = ['feed', 'billing', 'clip'] as const;
const STATUS_RATE = 0.05;
const RESET_RATE = 0.01;

/**
 * Lists the emulator's faults for this scenario. The emulator tries faults oldest first, so a
 * request escapes the 503 before the reset is drawn: about 5% 503s and 0.95% resets.
 */
export function faultSpecs(): FaultSpec[] {
  return FAULTED_ROUTES.flatMap((match): FaultSpec[] => [
    { match, action: 'status', status: 503, rate: STATUS_RATE },
    { match, action: 'reset_before', rate: RESET_RATE },
  ]);
}

interface FaultFigures {
  summary: CaseSummary;
  /** 2xx responses over client requests, per run. */
  success_rate: Spread;
  /** The same over all runs together, which the target is checked against. */
  success_rate_all_runs: number;
  upstream_calls_per_request: Spread;
  upstream_calls_per_request_all_runs: number;
  status_codes: Record<string, number>;
}

/** Runs the read routes through the gateway while the emulator fails some of its reads. */
export async function underFaults(ctx: BenchContext): Promise<ScenarioOutcome> {
  const gateway = await startGateway(ctx.services, {
    name: 'gateway-faults',
    emulatorUrl: ctx.emulator.url,
    overrides: observabilityOn(ctx.sink),
  });
  const { client } = ctx.emulator;
  try {
    const cases: LoadCase[] = ROUTES.map((route) => ({
      id: route,
      target: gatewayTarget(ctx, gateway, route),
      countUpstream: true,
    }));
    // Latency of every response, failures included, so slow give-ups show in the P99.
    const phases: Phase[] = [
      {
        name: 'loaded',
        settings: {
          connections: ctx.options.connections,
          durationS: ctx.options.durationS,
          latencyOf: 'all',
        },
      },
    ];
    const statsBefore = await client.stats();
    for (const spec of faultSpecs()) await client.addFault(spec);
    const measured = await runCases(ctx, cases, phases).finally(() => client.clearFaults());
    const statsAfter = await client.stats();
    const metrics = await scrapeMetrics(gateway);

    const figures: Record<string, FaultFigures> = {};
    for (const route of ROUTES) figures[route] = routeFigures(measured.runs[route].loaded);

    return {
      name: 'faults',
      settings: { loaded: phases[0].settings, faults: faultSpecs(), gateway_env: gateway.env },
      figures: {
        routes: figures,
        emulator_faults_hit: statsAfter.faults_hit - statsBefore.faults_hit,
        gateway_retries_by_reason: sumCounterBy(metrics, 'suno_upstream_retries_total', 'reason'),
        gateway_give_ups_by_reason: sumCounterBy(metrics, 'suno_upstream_give_ups_total', 'reason'),
      },
      tables: [figuresTable(figures)],
      checks: checks(figures),
    };
  } finally {
    await gateway.service.stop();
  }
}

function routeFigures(runs: MeasuredRun[]): FaultFigures {
  const statusCodes: Record<string, number> = {};
  for (const run of runs) {
    for (const [code, count] of Object.entries(run.statusCodes))
      statusCodes[code] = (statusCodes[code] ?? 0) + count;
  }

  const requests = runs.reduce((sum, run) => sum + run.responses + run.errors, 0);
  const ok = runs.reduce((sum, run) => sum + run.ok, 0);
  const upstreamCalls = runs.reduce((sum, run) => sum + (run.upstreamCalls ?? 0), 0);

  return {
    summary: summarise(runs),
    success_rate: spread(runs.map((run) => run.ok / Math.max(1, run.responses + run.errors))),
    success_rate_all_runs: ok / Math.max(1, requests),
    upstream_calls_per_request: upstreamPerCallSpread(runs),
    upstream_calls_per_request_all_runs: upstreamCalls / Math.max(1, requests),
    status_codes: statusCodes,
  };
}

function figuresTable(figures: Record<string, FaultFigures>): Table {
  return {
    title: `Under faults (${STATUS_RATE * 100}% 503 and ${RESET_RATE * 100}% resets on feed, billing and clip)`,
    header: [
      'route',
      'req/s',
      'success rate, all runs (per-run range)',
      'P50 ms',
      'P99 ms',
      'other CPU share',
      'upstream calls per request, all runs (range)',
      'status codes',
    ],
    rows: ROUTES.map((route) => {
      const { summary, success_rate, upstream_calls_per_request, status_codes } = figures[route];
      const upstream = upstream_calls_per_request;

      return [
        route,
        formatSpread(summary.rps, 0),
        `${formatPercent(figures[route].success_rate_all_runs, 3)} (${formatPercent(success_rate.min, 3)}–${formatPercent(success_rate.max, 3)})`,
        formatSpread(summary.p50Ms, 2),
        formatSpread(summary.p99Ms, 2),
        formatSpread(summary.foreignCpuShare, 2),
        `${formatNumber(figures[route].upstream_calls_per_request_all_runs, 3)} (${formatNumber(upstream.min, 3)}–${formatNumber(upstream.max, 3)})`,
        Object.entries(status_codes)
          .map(([code, count]) => `${code}: ${count}`)
          .join(', ') + (summary.errors > 0 ? `, no response: ${summary.errors}` : ''),
      ];
    }),
  };
}

function checks(figures: Record<string, FaultFigures>): TargetCheck[] {
  return ROUTES.flatMap((route): TargetCheck[] => {
    const success = figures[route].success_rate_all_runs;
    const upstream = figures[route].upstream_calls_per_request_all_runs;

    return [
      {
        scenario: 'faults',
        target: `${route}: success ≥ 99.9% under faults`,
        measured: formatPercent(success, 3),
        met: success >= 0.999,
      },
      {
        scenario: 'faults',
        target: `${route}: upstream calls per request ≤ 1.1`,
        measured: formatNumber(upstream, 3),
        met: upstream <= 1.1,
      },
    ];
  });
}
