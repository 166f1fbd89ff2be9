import type { BenchContext, ScenarioOutcome, Table, TargetCheck } from '../context';
import { requestsBetween } from '../emulator-client';
import { formatMegabytes, formatNumber, formatSpread } from '../format';
import { GatewaySampler, LOOP_SAMPLING_INTERVAL_S, type GatewaySamples } from '../gateway-sampler';
import { MAX_SONGS } from '../options';
import { observabilityOn, startGateway, type RunningGateway } from '../services';
import { submitSongs, WAIT_TIMEOUT_S, type SongAnswer } from '../songs-client';
import { scrapeMetrics, sumCounterBy } from './read-load';
import { percentile, spread } from '../stats';

const WARM_UP_SONGS = 5;
const RSS_TARGET_BYTES = 300 * 1024 * 1024;
const RSS_TARGET_SONGS = 1000;

/** Figures of one batch of concurrent songs. */
interface SongRun {
  songs: number;
  completed: number;
  statuses: Record<string, number>;
  wallS: number;
  /** Response time minus the time the emulator marks the clips complete, per completed song. */
  lagMs: { p50: number; p95: number; max: number };
  answerMs: { p50: number; p95: number; max: number };
  gateway: GatewaySamples;
  upstream: { generate: number; feed: number; clip: number };
  /** Mean duration of the gateway's feed and generate calls, from its own histogram. */
  gatewayUpstreamMeanMs: { feed: number; generate: number };
  /** Completion lags of every completed song, kept to pool the runs. */
  lags: number[];
}

/**
 * `--songs` concurrent `wait=true` generations against a fast emulator clock, with the caps
 * of the emulator and the gateway raised so that neither queues the songs.
 */
export async function manySongs(ctx: BenchContext): Promise<ScenarioOutcome> {
  const { client } = ctx.emulator;
  const { songs, runs } = ctx.options;
  const original = await client.config();
  await client.patchConfig({ running_job_cap: 100_000 });
  await client.setCredits('demo', (WARM_UP_SONGS + songs * runs) * 10 + 1_000);
  let gateway: RunningGateway | undefined;
  try {
    gateway = await startGateway(ctx.services, {
      name: 'gateway-songs',
      emulatorUrl: ctx.emulator.url,
      overrides: {
        ...observabilityOn(ctx.sink),
        BULKHEAD_LIMIT: String(Math.min(MAX_SONGS, Math.max(10, songs))),
        BULKHEAD_QUEUE: String(songs),
      },
    });
    ctx.log(`  warm-up: ${WARM_UP_SONGS} songs`);
    await submitSongs({
      baseUrl: gateway.url,
      apiKey: gateway.apiKey,
      count: WARM_UP_SONGS,
      label: 'warm-up',
    });

    const results: SongRun[] = [];
    for (let round = 1; round <= runs; round += 1) {
      const run = await runSongs(ctx, gateway, original.generation_s, `run ${round}`);
      results.push(run);
      ctx.log(
        `  run ${round}/${runs}: ${run.completed}/${songs} complete, lag p95 ${formatNumber(run.lagMs.p95, 0)} ms, RSS peak ${formatMegabytes(run.gateway.rss.peakBytes)}`,
      );
    }

    return outcome(ctx, gateway, original.generation_s, results);
  } finally {
    await gateway?.service.stop();
    await client.patchConfig({ running_job_cap: original.running_job_cap });
  }
}

async function runSongs(
  ctx: BenchContext,
  gateway: RunningGateway,
  generationS: number,
  label: string,
): Promise<SongRun> {
  const sampler = new GatewaySampler(gateway.service.pid, `${gateway.url}/metrics`);
  const before = await ctx.emulator.client.stats();
  const metricsBefore = await scrapeMetrics(gateway);
  sampler.start();
  const started = Date.now();
  const answers = await submitSongs({
    baseUrl: gateway.url,
    apiKey: gateway.apiKey,
    count: ctx.options.songs,
    label,
  });
  const wallS = (Date.now() - started) / 1000;
  const samples = await sampler.stop();
  const after = await ctx.emulator.client.stats();
  const metricsAfter = await scrapeMetrics(gateway);

  const completed = answers.filter(
    (answer) =>
      answer.status === 200 && answer.answeredAtMs !== null && answer.createdAtMs !== null,
  );
  const lags = completed.map(
    (answer) =>
      (answer.answeredAtMs as number) - ((answer.createdAtMs as number) + generationS * 1000),
  );
  const answerTimes = answers
    .filter((answer) => answer.answeredAtMs !== null)
    .map((answer) => (answer.answeredAtMs as number) - answer.sentAtMs);

  return {
    songs: answers.length,
    completed: completed.length,
    statuses: countStatuses(answers),
    wallS,
    lagMs: distribution(lags),
    answerMs: distribution(answerTimes),
    gateway: samples,
    upstream: {
      generate: requestsBetween(before, after, ['generate']),
      feed: requestsBetween(before, after, ['feed']),
      clip: requestsBetween(before, after, ['clip']),
    },
    gatewayUpstreamMeanMs: {
      feed: meanUpstreamMs(metricsBefore, metricsAfter, 'feed'),
      generate: meanUpstreamMs(metricsBefore, metricsAfter, 'generate'),
    },
    lags,
  };
}

function meanUpstreamMs(before: string, after: string, operation: string): number {
  const delta = (metric: string): number =>
    (sumCounterBy(after, metric, 'operation')[operation] ?? 0) -
    (sumCounterBy(before, metric, 'operation')[operation] ?? 0);

  return (
    (delta('suno_upstream_request_duration_seconds_sum') /
      delta('suno_upstream_request_duration_seconds_count')) *
    1000
  );
}

function countStatuses(answers: SongAnswer[]): Record<string, number> {
  const statuses: Record<string, number> = {};
  for (const answer of answers) {
    const key =
      answer.status === null
        ? `no response (${answer.error ?? 'unknown'})`
        : `${answer.status} ${answer.generationStatus ?? ''}`.trim();
    statuses[key] = (statuses[key] ?? 0) + 1;
  }

  return statuses;
}

function distribution(values: number[]): { p50: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);

  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1],
  };
}

function outcome(
  ctx: BenchContext,
  gateway: RunningGateway,
  generationS: number,
  results: SongRun[],
): ScenarioOutcome {
  const pooled = distribution(results.flatMap((run) => run.lags));
  const peakRss = Math.max(...results.map((run) => run.gateway.rss.peakBytes));
  const songs = ctx.options.songs;
  const figures = {
    pooled_lag_ms: pooled,
    lag_p50_ms: spread(results.map((run) => run.lagMs.p50)),
    lag_p95_ms: spread(results.map((run) => run.lagMs.p95)),
    answer_p95_ms: spread(results.map((run) => run.answerMs.p95)),
    rss_peak_bytes: spread(results.map((run) => run.gateway.rss.peakBytes)),
    heap_used_end_bytes: spread(results.map((run) => run.gateway.heapUsed.endBytes)),
    // Lag beyond the gateway's 20 ms sampling interval; the raw gauges are under `runs`.
    event_loop_lag_p99_worst_second_s: spread(
      results.map((run) => run.gateway.eventLoop.p99MaxS - LOOP_SAMPLING_INTERVAL_S),
    ),
    event_loop_lag_max_s: spread(
      results.map((run) => run.gateway.eventLoop.maxS - LOOP_SAMPLING_INTERVAL_S),
    ),
    runs: results.map(({ lags: _lags, ...run }) => run),
  };
  const table: Table = {
    title: `Many songs (${songs} concurrent wait=true generations, emulator generation ${generationS} s, POLL_INTERVAL_MS=${gateway.env.POLL_INTERVAL_MS})`,
    header: [
      'completed',
      'lag P50 ms',
      'lag P95 ms',
      'lag P95 ms, all runs',
      'answer P95 ms',
      'RSS start → peak',
      'heap used at end',
      'loop lag P99 ms, worst second (beyond 20 ms sampling)',
      'loop lag max ms (beyond 20 ms sampling)',
      'upstream generate / feed / clip',
      'mean feed / generate call ms',
    ],
    rows: results.map((run, index) => [
      `${run.completed}/${run.songs}`,
      formatNumber(run.lagMs.p50, 0),
      formatNumber(run.lagMs.p95, 0),
      index === 0 ? formatNumber(pooled.p95, 0) : '',
      formatNumber(run.answerMs.p95, 0),
      `${formatMegabytes(run.gateway.rss.startBytes)} → ${formatMegabytes(run.gateway.rss.peakBytes)}`,
      formatMegabytes(run.gateway.heapUsed.endBytes),
      formatNumber((run.gateway.eventLoop.p99MaxS - LOOP_SAMPLING_INTERVAL_S) * 1000, 1),
      formatNumber((run.gateway.eventLoop.maxS - LOOP_SAMPLING_INTERVAL_S) * 1000, 1),
      `${run.upstream.generate} / ${run.upstream.feed} / ${run.upstream.clip}`,
      `${formatNumber(run.gatewayUpstreamMeanMs.feed, 1)} / ${formatNumber(run.gatewayUpstreamMeanMs.generate, 1)}`,
    ]),
  };

  return {
    name: 'many-songs',
    settings: {
      songs,
      runs: ctx.options.runs,
      warm_up_songs: WARM_UP_SONGS,
      generation_s: generationS,
      wait_timeout_s: WAIT_TIMEOUT_S,
      gateway_env: gateway.env,
    },
    figures,
    tables: [table],
    checks: checks(pooled.p95, peakRss, songs, formatSpread(figures.lag_p95_ms, 0)),
  };
}

function checks(
  pooledP95Ms: number,
  peakRssBytes: number,
  songs: number,
  perRunP95: string,
): TargetCheck[] {
  return [
    {
      scenario: 'many-songs',
      target: 'P95 completion lag ≤ 2 s',
      measured: `${formatNumber(pooledP95Ms, 0)} ms over all runs (per run ${perRunP95} ms)`,
      met: pooledP95Ms <= 2_000,
    },
    {
      scenario: 'many-songs',
      target: `gateway RSS < 300 MB at ${RSS_TARGET_SONGS} concurrent waits`,
      measured: `peak ${formatMegabytes(peakRssBytes)} at ${songs} waits`,
      met: songs >= RSS_TARGET_SONGS ? peakRssBytes < RSS_TARGET_BYTES : null,
    },
  ];
}
