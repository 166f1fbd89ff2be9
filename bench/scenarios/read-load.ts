import type { BenchContext } from '../context';
import { READ_ROUTES, requestsBetween } from '../emulator-client';
import { runLoad, warmUp, type LoadSettings, type LoadTarget, type RunFigures } from '../load';
import { sleep } from '../processes';
import type { RunningGateway } from '../services';
import { spread, type Spread } from '../stats';

export const ROUTES = ['clips', 'credits'] as const;
export type ReadRoute = (typeof ROUTES)[number];

/** Builds the gateway path of a read route: two real clip ids, or the credits of the pool. */
export function gatewayPath(route: ReadRoute, clipIds: string[]): string {
  return route === 'clips' ? `/v1/clips?ids=${clipIds.join(',')}` : '/v1/credits';
}

/** Builds the studio path that the gateway calls for the route, byte for byte. */
export function upstreamPath(route: ReadRoute, clipIds: string[]): string {
  return route === 'clips'
    ? `/api/feed/v2?${new URLSearchParams({ ids: clipIds.join(',') })}`
    : '/api/billing/info/';
}

export function gatewayTarget(
  ctx: BenchContext,
  gateway: RunningGateway,
  route: ReadRoute,
): LoadTarget {
  return {
    url: `${gateway.url}${gatewayPath(route, ctx.clipIds)}`,
    headers: { authorization: `Bearer ${gateway.apiKey}` },
    processes: { gateway: gateway.service.pid, emulator: ctx.emulator.service.pid },
  };
}

/** One target under one load shape. `countUpstream` adds upstream calls per client request. */
export interface LoadCase {
  id: string;
  target: LoadTarget;
  countUpstream: boolean;
}

export interface Phase {
  name: string;
  settings: LoadSettings;
}

export interface MeasuredRun extends RunFigures {
  /** Studio read calls (feed, clip, billing) the emulator counted during the run. */
  upstreamCalls?: number;
  /** `upstreamCalls` per client request (responses plus errors). */
  upstreamPerCall?: number;
}

/** Runs of each case and phase: `runs[caseId][phaseName]`, plus warm-up responses per case. */
export interface CaseRuns {
  runs: Record<string, Record<string, MeasuredRun[]>>;
  warmUpResponses: Record<string, number>;
}

/**
 * Warms every case up, then measures `options.runs` rounds. Each round runs every case and
 * phase once, so slow drift of the machine spreads over all cases instead of biasing one.
 */
export async function runCases(
  ctx: BenchContext,
  cases: LoadCase[],
  phases: Phase[],
): Promise<CaseRuns> {
  const { options } = ctx;
  const result: CaseRuns = { runs: {}, warmUpResponses: {} };
  // The read clips must be complete, so every case reads the same response body.
  await sleep(Math.max(0, ctx.clipsCompleteAtMs - Date.now()));
  for (const loadCase of cases) {
    ctx.log(`  warm-up ${loadCase.id} (${options.warmupS} s)`);
    const warm = await warmUp(loadCase.target, phases[0].settings.connections, options.warmupS);
    result.warmUpResponses[loadCase.id] = warm.responses;
    result.runs[loadCase.id] = Object.fromEntries(phases.map((phase) => [phase.name, []]));
  }

  for (let round = 1; round <= options.runs; round += 1) {
    for (const loadCase of cases) {
      for (const phase of phases) {
        const run = await measure(ctx, loadCase, phase.settings);
        result.runs[loadCase.id][phase.name].push(run);
        ctx.log(`  run ${round}/${options.runs} ${loadCase.id} ${phase.name}: ${describeRun(run)}`);
      }
    }
  }

  return result;
}

async function measure(
  ctx: BenchContext,
  loadCase: LoadCase,
  settings: LoadSettings,
): Promise<MeasuredRun> {
  if (!loadCase.countUpstream) return runLoad(loadCase.target, settings);

  const before = await ctx.emulator.client.stats();
  const run = await runLoad(loadCase.target, settings);
  // Requests cut off at the end of the run may still reach the emulator for a moment.
  await sleep(200);
  const after = await ctx.emulator.client.stats();
  const upstreamCalls = requestsBetween(before, after, READ_ROUTES);

  return {
    ...run,
    upstreamCalls,
    upstreamPerCall: upstreamCalls / Math.max(1, run.responses + run.errors),
  };
}

function describeRun(run: MeasuredRun): string {
  const parts = [`${run.rps.toFixed(0)} req/s`, `p99 ${run.latencyMs.p99.toFixed(2)} ms`];
  if (run.non2xx + run.errors > 0) parts.push(`${run.non2xx} non-2xx, ${run.errors} errors`);
  if (run.upstreamPerCall !== undefined)
    parts.push(`${run.upstreamPerCall.toFixed(3)} upstream/call`);

  return parts.join(', ');
}

export function upstreamPerCallSpread(runs: MeasuredRun[]): Spread {
  return spread(runs.map((run) => run.upstreamPerCall ?? Number.NaN));
}

/** Sums the samples of a Prometheus counter by one label, from the text exposition. */
export function sumCounterBy(
  exposition: string,
  metric: string,
  label: string,
): Record<string, number> {
  const totals: Record<string, number> = {};
  const pattern = new RegExp(`^${metric}\\{([^}]*)\\}\\s+(\\S+)`, 'gm');
  for (const match of exposition.matchAll(pattern)) {
    const value = new RegExp(`${label}="([^"]*)"`).exec(match[1])?.[1] ?? '';
    totals[value] = (totals[value] ?? 0) + Number(match[2]);
  }

  return totals;
}

export async function scrapeMetrics(gateway: RunningGateway): Promise<string> {
  const response = await fetch(`${gateway.url}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET ${gateway.url}/metrics failed with ${response.status}`);

  return response.text();
}
