import { parseArgs } from 'node:util';

export const SCENARIO_NAMES = ['read-overhead', 'observability', 'faults', 'many-songs'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** Settings of one harness run, after flags and the smoke or full defaults are applied. */
export interface BenchOptions {
  smoke: boolean;
  /** Concurrent `wait=true` generations of the many-songs scenario. */
  songs: number;
  /** Length of one measured load run, in whole seconds (autocannon ends runs on one-second ticks). */
  durationS: number;
  /** Concurrent connections of the load generator in throughput runs. */
  connections: number;
  /** Measured runs per case; the report gives their median and min–max. */
  runs: number;
  /** Unmeasured load before the first run of each case, in seconds. */
  warmupS: number;
  scenarios: ScenarioName[];
}

const FULL_DEFAULTS = { songs: 100, durationS: 10, connections: 10, runs: 3, warmupS: 5 };
const SMOKE_DEFAULTS = { songs: 10, durationS: 1, connections: 4, runs: 1, warmupS: 1 };

export const MAX_SONGS = 1000;

export const USAGE = `Usage: npm run bench -- [flags]

  --smoke            one short run per case (about a minute in total), to check that every
                     scenario produces figures; its numbers are not benchmark results
  --songs N          concurrent wait=true generations in many-songs (1-${MAX_SONGS}; default 100, smoke 10)
  --duration S       seconds per measured load run (default 10, smoke 1)
  --connections C    concurrent connections in throughput runs (default 10, smoke 4)
  --runs R           measured runs per case (default 3, smoke 1)
  --scenario NAME    run only this scenario; repeat the flag for several
                     (${SCENARIO_NAMES.join(', ')})
  --help             print this text
`;

/** Thrown for invalid flags; main prints the message and the usage text. */
export class UsageError extends Error {}

/** Parses the harness flags; throws UsageError naming the invalid flag and value. */
export function parseOptions(argv: string[]): BenchOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        smoke: { type: 'boolean', default: false },
        songs: { type: 'string' },
        duration: { type: 'string' },
        connections: { type: 'string' },
        runs: { type: 'string' },
        scenario: { type: 'string', multiple: true },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) return 'help';

  const defaults = values.smoke ? SMOKE_DEFAULTS : FULL_DEFAULTS;

  return {
    smoke: values.smoke ?? false,
    songs: numberFlag('songs', values.songs, defaults.songs, {
      min: 1,
      max: MAX_SONGS,
      integer: true,
    }),
    durationS: numberFlag('duration', values.duration, defaults.durationS, {
      min: 1,
      max: 600,
      integer: true,
    }),
    connections: numberFlag('connections', values.connections, defaults.connections, {
      min: 1,
      max: 1000,
      integer: true,
    }),
    runs: numberFlag('runs', values.runs, defaults.runs, { min: 1, max: 50, integer: true }),
    warmupS: defaults.warmupS,
    scenarios: scenarioFlags(values.scenario),
  };
}

function numberFlag(
  name: string,
  raw: string | undefined,
  fallback: number,
  limits: { min: number; max: number; integer?: boolean },
): number {
  if (raw === undefined) return fallback;

  const value = Number(raw);
  const kind = limits.integer ? 'a whole number' : 'a number';
  if (!Number.isFinite(value) || (limits.integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be ${kind}, got ${JSON.stringify(raw)}`);
  }
  if (value < limits.min || value > limits.max) {
    throw new UsageError(`--${name} must be between ${limits.min} and ${limits.max}, got ${raw}`);
  }

  return value;
}

function scenarioFlags(raw: string[] | undefined): ScenarioName[] {
  if (raw === undefined || raw.length === 0) return [...SCENARIO_NAMES];

  for (const name of raw) {
    if (!SCENARIO_NAMES.includes(name as ScenarioName)) {
      throw new UsageError(
        `--scenario must be one of ${SCENARIO_NAMES.join(', ')}, got ${JSON.stringify(name)}`,
      );
    }
  }

  // Keep the documented order, whatever order the flags came in.
  return SCENARIO_NAMES.filter((name) => raw.includes(name));
}
