import type { BenchOptions, ScenarioName } from './options';
import type { EmulatorSettings, RunningEmulator, RunningServer, ServiceSettings } from './services';

/** What every scenario gets: options, the shared emulator and OTLP sink, and test data. */
export interface BenchContext {
  options: BenchOptions;
  services: ServiceSettings;
  emulator: RunningEmulator;
  emulatorSettings: EmulatorSettings;
  /** Receives the gateways' trace exports when observability is on. */
  sink: RunningServer;
  /** Session JWT of the default account, for direct calls to the emulator. */
  jwt: string;
  /** Two clips made before the scenarios start; complete by `clipsCompleteAtMs`. */
  clipIds: string[];
  clipsCompleteAtMs: number;
  log(message: string): void;
}

/** A table for stdout and docs/benchmarks.md. */
export interface Table {
  title: string;
  header: string[];
  rows: string[][];
}

/** One target of the issue, compared with what was measured. */
export interface TargetCheck {
  scenario: ScenarioName;
  target: string;
  measured: string;
  /** null when this run did not measure the target (for example fewer songs than it names). */
  met: boolean | null;
}

export interface ScenarioOutcome {
  name: ScenarioName;
  settings: Record<string, unknown>;
  figures: Record<string, unknown>;
  tables: Table[];
  checks: TargetCheck[];
}
