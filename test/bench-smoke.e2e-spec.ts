/**
 * Runs `npm run bench -- --smoke` and checks that every scenario produced finite figures.
 * Speeds are not asserted: the smoke runs are too short, and test machines differ.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
// About a minute on two cores; the margin covers `npm run build` when dist/ is missing and slow CI.
const BENCH_TIMEOUT_MS = 8 * 60_000;

jest.setTimeout(BENCH_TIMEOUT_MS + 60_000);

interface BenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

type Json = Record<string, unknown>;

function runSmokeBench(onStart: (child: ChildProcess) => void): Promise<BenchRun> {
  return new Promise((resolve, reject) => {
    // A process group of its own, so a timeout can stop npm, the harness and its servers together.
    const child = spawn('npm', ['run', 'bench', '--', '--smoke'], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onStart(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => stopGroup(child), BENCH_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function stopGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // The group has already exited.
  }
}

/** Follows a dotted path through the report, failing with the path when a step is missing. */
function at(root: unknown, path: string): unknown {
  let value = root;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || !(key in value)) {
      throw new Error(`report has no ${path} (missing at ${key})`);
    }
    value = (value as Json)[key];
  }

  return value;
}

function expectFigure(report: Json, path: string): void {
  const value = at(report, path);

  expect({ path, value }).toEqual({ path, value: expect.any(Number) });
  expect({ path, finite: Number.isFinite(value) }).toEqual({ path, finite: true });
}

const FIGURES: Record<string, string[]> = {
  'read-overhead': ['clips', 'credits'].flatMap((route) => [
    ...['gateway', 'direct', 'minimal-proxy'].flatMap((target) => [
      `cases.${route}/${target}.loaded.rps.median`,
      `cases.${route}/${target}.loaded.p99Ms.median`,
      `cases.${route}/${target}.single.p99Ms.median`,
    ]),
    `ratios.${route}.gateway_over_direct_rps`,
    `ratios.${route}.gateway_over_proxy_rps`,
    `ratios.${route}.p99_overhead_vs_direct_ms`,
  ]),
  observability: ['clips', 'credits'].flatMap((route) => [
    `cases.${route}/on.rps.median`,
    `cases.${route}/off.rps.median`,
    `costs.${route}.throughput_cost`,
  ]),
  faults: ['clips', 'credits'].flatMap((route) => [
    `routes.${route}.success_rate_all_runs`,
    `routes.${route}.upstream_calls_per_request_all_runs`,
    `routes.${route}.summary.p99Ms.median`,
  ]),
  'many-songs': [
    'pooled_lag_ms.p95',
    'rss_peak_bytes.median',
    'event_loop_lag_p99_worst_second_s.median',
  ],
};

describe('bench smoke mode', () => {
  let child: ChildProcess | undefined;
  let run: BenchRun;
  let resultsPath: string | undefined;
  let report: Json;

  beforeAll(async () => {
    run = await runSmokeBench((started) => (child = started));
    const match = /^results: (.+)$/m.exec(run.stdout);
    if (match) {
      resultsPath = join(ROOT, match[1].trim());
      report = JSON.parse(readFileSync(resultsPath, 'utf8')) as Json;
    }
  });

  afterAll(() => {
    if (child) stopGroup(child);
    if (resultsPath) rmSync(resultsPath, { force: true });
  });

  it('exits with status 0', () => {
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-4000) }).toEqual({
      code: 0,
      stderr: '',
    });
  });

  it('writes a results file', () => {
    expect(resultsPath).toEqual(expect.stringMatching(/bench\/results\/.+-smoke\.json$/));
    expect(at(report, 'mode')).toBe('smoke');
    expect(at(report, 'machine.node')).toBe(process.version);
  });

  it.each(Object.keys(FIGURES))('%s produces finite figures', (scenario) => {
    expect(at(report, `scenarios.${scenario}`)).not.toHaveProperty('error');
    for (const path of FIGURES[scenario])
      expectFigure(report, `scenarios.${scenario}.figures.${path}`);
  });

  it('prints every scenario table', () => {
    for (const title of [
      'Read overhead: throughput and latency',
      'Observability cost',
      'Under faults',
      'Many songs',
      'Targets',
    ]) {
      expect(run.stdout).toContain(`### ${title}`);
    }
  });
});
