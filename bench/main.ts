/**
 * Benchmark harness: `npm run bench -- [--smoke] [--songs N] [--duration S] [--connections C]
 * [--runs R] [--scenario NAME]`. Starts the emulator, the built gateway (dist/main.js) and
 * helper servers as separate processes on 127.0.0.1, runs the scenarios, prints Markdown
 * tables and writes the figures to bench/results/<time>-<mode>.json.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { ensureBuild } from './build';
import type { BenchContext, ScenarioOutcome } from './context';
import { parseOptions, USAGE, UsageError, type BenchOptions, type ScenarioName } from './options';
import { pinHarness, planCpus, stopAll } from './processes';
import { checksTable, machineInfo, renderTable, writeReport, type BenchReport } from './report';
import { observabilityCost } from './scenarios/observability';
import { underFaults } from './scenarios/faults';
import { manySongs } from './scenarios/many-songs';
import { readOverhead } from './scenarios/read-overhead';
import {
  startEmulator,
  startOtlpSink,
  type EmulatorSettings,
  type ServiceSettings,
} from './services';

const ROOT = resolve(__dirname, '..');

const SCENARIOS: Record<ScenarioName, (ctx: BenchContext) => Promise<ScenarioOutcome>> = {
  'read-overhead': readOverhead,
  observability: observabilityCost,
  faults: underFaults,
  'many-songs': manySongs,
};

const startedAtMs = Date.now();

/** Progress goes to stderr with the seconds since start, so stdout keeps only the tables. */
function log(message: string): void {
  const elapsed = ((Date.now() - startedAtMs) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${elapsed} s] ${message}\n`);
}

/** Emulator clock: 5 s songs in full runs; 2 s in smoke runs so many-songs stays short. */
function emulatorSettings(options: BenchOptions): EmulatorSettings {
  // A JWT that outlives the whole bench, so direct calls never need a new one.
  return { generationS: options.smoke ? 2 : 5, jwtTtlS: 24 * 3600 };
}

async function prepare(options: BenchOptions, services: ServiceSettings): Promise<BenchContext> {
  const settings = emulatorSettings(options);
  const sink = await startOtlpSink(services);
  const emulator = await startEmulator(services, settings);
  const jwt = await emulator.client.mintJwt();
  const clipIds = await emulator.client.generate(jwt, 'bench read clips');

  return {
    options,
    services,
    emulator,
    emulatorSettings: settings,
    sink,
    jwt,
    clipIds,
    clipsCompleteAtMs: Date.now() + settings.generationS * 1000,
    log,
  };
}

async function runScenarios(ctx: BenchContext, report: BenchReport): Promise<boolean> {
  let allCompleted = true;
  for (const name of ctx.options.scenarios) {
    log(`scenario ${name}`);
    try {
      const outcome = await SCENARIOS[name](ctx);
      report.scenarios[name] = outcome;
      report.targets.push(...outcome.checks);
    } catch (error) {
      allCompleted = false;
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      report.scenarios[name] = { error: message };
      log(`scenario ${name} failed: ${message}`);
      // Faults and caps must not leak into the next scenario.
      await ctx.emulator.client.clearFaults().catch(() => undefined);
    }
  }

  return allCompleted;
}

function printReport(report: BenchReport, path: string): void {
  const parts: string[] = [];
  for (const outcome of Object.values(report.scenarios)) {
    if (outcome === undefined || 'error' in outcome) continue;
    parts.push(...outcome.tables.map(renderTable));
  }
  parts.push(renderTable(checksTable(report.targets)));
  for (const warning of report.warnings) parts.push(`warning: ${warning}`);
  process.stdout.write(`${parts.join('\n\n')}\n\nresults: ${relative(ROOT, path)}\n`);
}

/** The command line as a user would type it. */
function benchCommand(args: string[]): string {
  return args.length === 0 ? 'npm run bench' : `npm run bench -- ${args.join(' ')}`;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }

  const warnings = ensureBuild(ROOT, log);
  const cpus = planCpus();
  if (cpus !== null) pinHarness(cpus);
  else
    warnings.push(
      'processes are not pinned to CPUs (taskset missing or one CPU): client and servers compete for every CPU',
    );
  const logDir = mkdtempSync(join(tmpdir(), 'suno-bench-'));
  log(`process logs: ${logDir}`);

  const report: BenchReport = {
    started_at: new Date().toISOString(),
    finished_at: '',
    command: benchCommand(process.argv.slice(2)),
    mode: options.smoke ? 'smoke' : 'full',
    machine: machineInfo(ROOT, cpus),
    settings: { ...options, emulator: emulatorSettings(options), log_dir: logDir },
    scenarios: {},
    targets: [],
    warnings,
  };
  const ctx = await prepare(options, { root: ROOT, logDir, cpus });
  const allCompleted = await runScenarios(ctx, report);
  report.finished_at = new Date().toISOString();
  const path = writeReport(ROOT, report);
  printReport(report, path);

  return allCompleted ? 0 : 1;
}

function onSignal(signal: NodeJS.Signals): void {
  log(`bench: stopping on ${signal}`);
  void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

main()
  .then(async (code) => {
    await stopAll();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    await stopAll();
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
