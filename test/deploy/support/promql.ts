import { METRICS, PROCESS_METRIC_PREFIXES } from '../../../src/observability/metrics.catalog';

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
  'group_left',
  'group_right',
]);
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

/** Series that Prometheus itself writes for every scrape target. */
const SCRAPE_SERIES = new Set(['up']);

/**
 * Extracts the metric names that a PromQL expression selects. It removes strings, label
 * matchers, range selectors and grouping clauses, then keeps identifiers that are not
 * function calls or keywords. Good enough for linting our own rules and dashboards, not a
 * full PromQL parser.
 */
export function extractMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ');
  const names = new Set<string>();

  for (const match of stripped.matchAll(/(?<![\w.$])[A-Za-z_:][\w:]*/g)) {
    const rest = stripped.slice((match.index ?? 0) + match[0].length).trimStart();
    if (rest.startsWith('(') || KEYWORDS.has(match[0].toLowerCase())) {
      continue;
    }
    names.add(match[0]);
  }

  return [...names].sort();
}

const catalogNames = new Set<string>(Object.values(METRICS).map((spec) => spec.name));
const histogramNames = new Set<string>(
  Object.values(METRICS)
    .filter((spec) => spec.kind === 'histogram')
    .map((spec) => spec.name),
);

/** Returns the catalog metric that a series name belongs to, with histogram suffixes removed. */
export function catalogMetricOf(seriesName: string): string | undefined {
  if (catalogNames.has(seriesName)) {
    return seriesName;
  }
  const suffix = HISTOGRAM_SUFFIXES.find((s) => seriesName.endsWith(s));
  const base = suffix ? seriesName.slice(0, -suffix.length) : undefined;

  return base && histogramNames.has(base) ? base : undefined;
}

/**
 * True when a series name is exported by the gateway (catalog or Node process metrics), is
 * written by Prometheus for each target, or is one of the given recording rules.
 */
export function isKnownSeries(seriesName: string, recordingRules: ReadonlySet<string>): boolean {
  return (
    catalogMetricOf(seriesName) !== undefined ||
    PROCESS_METRIC_PREFIXES.some((prefix) => seriesName.startsWith(prefix)) ||
    SCRAPE_SERIES.has(seriesName) ||
    recordingRules.has(seriesName)
  );
}

/** Names of every metric in the catalog. */
export function catalogMetricNames(): string[] {
  return [...catalogNames].sort();
}
