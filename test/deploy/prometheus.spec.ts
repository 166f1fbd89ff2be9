import { spawnSync } from 'node:child_process';
import { extractMetricNames, isKnownSeries } from './support/promql';
import { markdownAnchors, readYaml, ROOT } from './support/repo';
import { PROMTOOL, describeWithTool } from './support/tools';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}

interface AlertTestCase {
  eval_time: string;
  alertname: string;
  exp_alerts?: unknown[];
}

interface TestFile {
  rule_files: string[];
  tests: { name?: string; input_series?: unknown[]; alert_rule_test?: AlertTestCase[] }[];
}

const RULES_PATH = 'deploy/prometheus/alerts.yml';
const RULE_TESTS_PATH = 'deploy/prometheus/alerts.test.yml';
const CONFIG_PATH = 'deploy/prometheus/prometheus.yml';
const RUNBOOK_PATH = 'deploy/README.md';

const rules = readYaml<RuleFile>(RULES_PATH).groups.flatMap((group) => group.rules);
const alerts = rules.filter((rule) => rule.alert);
const recordingRules = new Set(rules.flatMap((rule) => (rule.record ? [rule.record] : [])));

function runPromtool(promtool: string, args: string[]) {
  const result = spawnSync(promtool, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

  return {
    command: `promtool ${args.join(' ')}`,
    status: result.status,
    output: `${result.stdout}${result.stderr}`,
  };
}

describeWithTool('promtool', PROMTOOL, (promtool) => {
  it('accepts the Prometheus configuration', () => {
    expect(runPromtool(promtool, ['check', 'config', CONFIG_PATH])).toMatchObject({ status: 0 });
  });

  it('accepts the rule file', () => {
    expect(runPromtool(promtool, ['check', 'rules', RULES_PATH])).toMatchObject({ status: 0 });
  });

  it('passes the rule unit tests', () => {
    expect(runPromtool(promtool, ['test', 'rules', RULE_TESTS_PATH])).toMatchObject({ status: 0 });
  }, 120_000);
});

describe('alert rules', () => {
  const tests = readYaml<TestFile>(RULE_TESTS_PATH).tests;
  const cases = tests.flatMap((group) =>
    (group.alert_rule_test ?? []).map((testCase) => ({
      ...testCase,
      seriesCount: group.input_series?.length ?? 0,
    })),
  );
  const runbookAnchors = markdownAnchors(RUNBOOK_PATH);

  it('defines the expected alerts', () => {
    expect(alerts.map((rule) => rule.alert).sort()).toEqual(
      [
        'SunoCircuitBreakerOpen',
        'SunoCreditsLow',
        'SunoGatewayDown',
        'SunoGatewayErrorBudgetBurn1d',
        'SunoGatewayErrorBudgetBurn1h',
        'SunoGatewayErrorBudgetBurn3d',
        'SunoGatewayErrorBudgetBurn6h',
        'SunoGatewayHighErrorRatio',
        'SunoGatewayHighLatencyP99',
        'SunoNoUsableAccount',
        'SunoSessionRefreshFailing',
      ].sort(),
    );
  });

  it.each(alerts.map((rule) => [rule.alert, rule]))(
    '%s has severity and annotations',
    (_name, rule) => {
      expect(['page', 'ticket']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toEqual(expect.any(String));
      expect(rule.annotations?.description).toEqual(expect.any(String));
      expect(rule.annotations?.runbook_url).toEqual(expect.any(String));
    },
  );

  it.each(alerts.map((rule) => [rule.alert, rule]))(
    '%s links to its runbook section',
    (name, rule) => {
      const [file, anchor] = (rule.annotations?.runbook_url ?? '').split('#');

      expect(file).toBe(RUNBOOK_PATH);
      expect(anchor).toBe(String(name).toLowerCase());
      expect(runbookAnchors).toContain(anchor);
    },
  );

  it.each(alerts.map((rule) => [rule.alert]))('%s has a firing test case', (name) => {
    const firing = cases.filter((c) => c.alertname === name && (c.exp_alerts?.length ?? 0) > 0);

    expect(firing.length).toBeGreaterThan(0);
  });

  it.each(alerts.map((rule) => [rule.alert]))(
    '%s has a quiet test case with input series',
    (name) => {
      const quiet = cases.filter((c) => c.alertname === name && (c.exp_alerts?.length ?? 0) === 0);

      expect(quiet.length).toBeGreaterThan(0);
      for (const testCase of quiet) {
        expect(testCase.seriesCount).toBeGreaterThan(0);
      }
    },
  );

  it('tests only alerts that exist', () => {
    const names = new Set(alerts.map((rule) => rule.alert));
    const unknown = cases.map((c) => c.alertname).filter((name) => !names.has(name));

    expect(unknown).toEqual([]);
  });

  it.each(rules.map((rule) => [rule.alert ?? rule.record, rule]))(
    '%s uses only catalog metrics',
    (_name, rule) => {
      const names = extractMetricNames(rule.expr);
      const unknown = names.filter((name) => !isKnownSeries(name, recordingRules));

      expect(names.length).toBeGreaterThan(0);
      expect(unknown).toEqual([]);
    },
  );

  it('loads the rule file from the Prometheus configuration and the tests', () => {
    expect(readYaml<{ rule_files: string[] }>(CONFIG_PATH).rule_files).toContain('alerts.yml');
    expect(readYaml<TestFile>(RULE_TESTS_PATH).rule_files).toContain('alerts.yml');
  });

  it('scrapes the compose gateway under the job name the rules select', () => {
    const config = readYaml<{
      scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[];
    }>(CONFIG_PATH);
    const job = config.scrape_configs.find((c) => c.job_name === 'suno-gateway');
    const down = alerts.find((rule) => rule.alert === 'SunoGatewayDown');

    expect(job?.static_configs?.[0]?.targets).toEqual(['gateway:3000']);
    expect(down?.expr).toContain('job="suno-gateway"');
  });
});

describe('metric name extraction', () => {
  it('strips label matchers, ranges and grouping', () => {
    const expr =
      'histogram_quantile(0.99, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket{http_route!~"/health.*", job=~"$job"}[$__rate_interval])))';

    expect(extractMetricNames(expr)).toEqual(['http_server_request_duration_seconds_bucket']);
  });

  it('finds every operand of binary operators', () => {
    const expr =
      'sum(rate(a_total[5m])) / on (job) group_left sum(b_seconds_count) > 0.01 and on() c unless d offset 5m';

    expect(extractMetricNames(expr)).toEqual(['a_total', 'b_seconds_count', 'c', 'd']);
  });

  it('skips functions and numbers', () => {
    expect(extractMetricNames('min(x_seconds) - time() > 1e3 or vector(0)')).toEqual(['x_seconds']);
  });

  it('reports names missing from the catalog', () => {
    expect(isKnownSeries('suno_made_up_total', new Set())).toBe(false);
    expect(isKnownSeries('suno_upstream_retries_total_bucket', new Set())).toBe(false);
    expect(isKnownSeries('suno_upstream_request_duration_seconds_bucket', new Set())).toBe(true);
    expect(isKnownSeries('nodejs_heap_size_used_bytes', new Set())).toBe(true);
  });
});
