import autocannon from 'autocannon';
import { cpuSeconds, machineBusySeconds } from './processes';
import { SampleBuffer, percentile, spread, type Spread } from './stats';

/** One URL under load and the processes whose CPU time a run records. */
export interface LoadTarget {
  /** Full URL, path and query included. */
  url: string;
  headers: Record<string, string>;
  /** Processes to sample, by label (such as `gateway` or `emulator`). */
  processes: Record<string, number>;
}

export interface LoadSettings {
  connections: number;
  durationS: number;
  /** `ok` keeps the latency of 2xx responses only; `all` keeps every response's. */
  latencyOf: 'ok' | 'all';
}

/** What one closed-loop autocannon run measured. */
export interface RunFigures {
  connections: number;
  durationS: number;
  /** Responses received, whatever their status. */
  responses: number;
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts: requests that got no response. */
  errors: number;
  statusCodes: Record<string, number>;
  /** 2xx responses per second. */
  rps: number;
  /** Milliseconds, from the per-response times autocannon reports (sub-millisecond resolution). */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** CPU seconds used during the run: `client` is the harness process, the rest by label. */
  cpuS: Record<string, number>;
  /**
   * CPU seconds of every other process on the machine during the run (machine total minus
   * `cpuS`). Anything well above zero means something else competed for the CPUs.
   */
  foreignCpuS: number;
}

// A run that overstays its duration by this much is stopped, so a hung server cannot hang the bench.
const OVERRUN_GRACE_MS = 30_000;
const REQUEST_TIMEOUT_S = 10;

/**
 * Runs closed-loop load: `connections` keep-alive connections that each send the next request
 * as soon as the previous response arrives, for `durationS` seconds.
 */
export async function runLoad(target: LoadTarget, settings: LoadSettings): Promise<RunFigures> {
  const latencies = new SampleBuffer();
  const cpuBefore = sampleCpu(target.processes);
  const clientBefore = process.cpuUsage();
  const machineBefore = machineBusySeconds();

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        headers: target.headers,
        connections: settings.connections,
        duration: settings.durationS,
        timeout: REQUEST_TIMEOUT_S,
      },
      (error, finished) => {
        clearTimeout(guard);
        if (error) reject(error);
        else resolve(finished);
      },
    );
    // autocannon's own histogram keeps whole milliseconds, too coarse for loopback latencies.
    instance.on('response', (_client: unknown, status: number, _bytes: number, timeMs: number) => {
      if (settings.latencyOf === 'all' || (status >= 200 && status < 300)) latencies.add(timeMs);
    });
    const guard = setTimeout(() => instance.stop(), settings.durationS * 1000 + OVERRUN_GRACE_MS);
  });

  const machineS = machineBusySeconds() - machineBefore;
  const clientUsage = process.cpuUsage(clientBefore);
  const cpuAfter = sampleCpu(target.processes);
  const cpuS: Record<string, number> = { client: (clientUsage.user + clientUsage.system) / 1e6 };
  for (const label of Object.keys(target.processes))
    cpuS[label] = cpuAfter[label] - cpuBefore[label];
  const ownS = Object.values(cpuS).reduce((sum, seconds) => sum + seconds, 0);

  return {
    ...toFigures(result, settings, latencies.sorted(), cpuS),
    foreignCpuS: Math.max(0, machineS - ownS),
  };
}

function toFigures(
  result: autocannon.Result,
  settings: LoadSettings,
  sorted: Float64Array,
  cpuS: Record<string, number>,
): Omit<RunFigures, 'foreignCpuS'> {
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {}))
    statusCodes[code] = Number(stats.count);
  const responses = Object.values(statusCodes).reduce((sum, count) => sum + count, 0);

  return {
    connections: settings.connections,
    durationS: result.duration,
    responses,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
    rps: result['2xx'] / result.duration,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1],
    },
    cpuS,
  };
}

function sampleCpu(processes: Record<string, number>): Record<string, number> {
  const sample: Record<string, number> = {};
  for (const [label, pid] of Object.entries(processes)) sample[label] = cpuSeconds(pid);

  return sample;
}

/** Load that is not measured, so JIT compilation and connection set-up stay out of the runs. */
export function warmUp(
  target: LoadTarget,
  connections: number,
  seconds: number,
): Promise<RunFigures> {
  return runLoad(
    { ...target, processes: {} },
    { connections, durationS: seconds, latencyOf: 'ok' },
  );
}

/** The figures of several runs of one case, each as median and min–max. */
export interface CaseSummary {
  runs: number;
  rps: Spread;
  p50Ms: Spread;
  p90Ms: Spread;
  p99Ms: Spread;
  /** CPU microseconds per response, by process label. */
  cpuUsPerResponse: Record<string, Spread>;
  /** Share of one CPU used during the run, by process label (1 = one full CPU). */
  cpuShare: Record<string, Spread>;
  /** Share of one CPU used by processes the harness did not start or did not sample. */
  foreignCpuShare: Spread;
  responses: number;
  non2xx: number;
  errors: number;
}

export function summarise(runs: RunFigures[]): CaseSummary {
  const labels = Object.keys(runs[0]?.cpuS ?? {});
  const cpuUsPerResponse: Record<string, Spread> = {};
  const cpuShare: Record<string, Spread> = {};
  for (const label of labels) {
    cpuUsPerResponse[label] = spread(
      runs.map((run) => (run.cpuS[label] / Math.max(1, run.responses)) * 1e6),
    );
    cpuShare[label] = spread(runs.map((run) => run.cpuS[label] / run.durationS));
  }

  return {
    runs: runs.length,
    rps: spread(runs.map((run) => run.rps)),
    p50Ms: spread(runs.map((run) => run.latencyMs.p50)),
    p90Ms: spread(runs.map((run) => run.latencyMs.p90)),
    p99Ms: spread(runs.map((run) => run.latencyMs.p99)),
    cpuUsPerResponse,
    cpuShare,
    foreignCpuShare: spread(runs.map((run) => run.foreignCpuS / run.durationS)),
    responses: runs.reduce((sum, run) => sum + run.responses, 0),
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
  };
}
