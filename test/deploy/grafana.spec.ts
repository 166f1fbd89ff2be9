import { readdirSync } from 'node:fs';
import {
  catalogMetricNames,
  catalogMetricOf,
  extractMetricNames,
  isKnownSeries,
} from './support/promql';
import { readText, readYaml, repoPath } from './support/repo';
import { composeBindMounts, readCompose } from './support/compose';

interface DataSourceRef {
  type?: string;
  uid?: string;
}

interface Target {
  refId?: string;
  expr?: string;
  exemplar?: boolean;
  datasource?: DataSourceRef | string;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: DataSourceRef | string;
  targets?: Target[];
  panels?: Panel[];
}

interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: {
    list: {
      name: string;
      query?: string | { query: string };
      datasource?: DataSourceRef | string;
    }[];
  };
}

interface ProvisionedDataSource {
  name: string;
  type: string;
  uid: string;
  url: string;
  jsonData?: { exemplarTraceIdDestinations?: { name: string; datasourceUid: string }[] };
}

const DASHBOARD_DIR = 'deploy/grafana/dashboards';
const DATASOURCES_PATH = 'deploy/grafana/provisioning/datasources/datasources.yml';
const PROVIDERS_PATH = 'deploy/grafana/provisioning/dashboards/dashboards.yml';

const dashboardFiles = readdirSync(repoPath(DASHBOARD_DIR)).filter((file) =>
  file.endsWith('.json'),
);
const dashboards = dashboardFiles.map((file) => ({
  file,
  dashboard: JSON.parse(readText(`${DASHBOARD_DIR}/${file}`)) as Dashboard,
}));
const dataSources = readYaml<{ datasources: ProvisionedDataSource[] }>(
  DATASOURCES_PATH,
).datasources;
const recordingRules = new Set(
  readYaml<{ groups: { rules: { record?: string }[] }[] }>('deploy/prometheus/alerts.yml')
    .groups.flatMap((group) => group.rules)
    .flatMap((rule) => (rule.record ? [rule.record] : [])),
);

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** Collects every PromQL expression of a dashboard, from panel targets and variable queries. */
function expressions(dashboard: Dashboard): { where: string; expr: string }[] {
  const fromPanels = allPanels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? []).flatMap((target) =>
      target.expr
        ? [{ where: `panel "${panel.title}" ${target.refId ?? ''}`, expr: target.expr }]
        : [],
    ),
  );
  const fromVariables = (dashboard.templating?.list ?? []).flatMap((variable) => {
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const metric = query?.match(/^label_values\((.+),\s*\w+\)$/)?.[1];

    return metric ? [{ where: `variable "${variable.name}"`, expr: metric }] : [];
  });

  return [...fromPanels, ...fromVariables];
}

/** Lists every data source reference of a dashboard, with the panel or variable that holds it. */
function dataSourceRefs(dashboard: Dashboard): { where: string; ref: DataSourceRef | string }[] {
  const fromPanels = allPanels(dashboard.panels).flatMap((panel) => [
    ...(panel.datasource ? [{ where: `panel "${panel.title}"`, ref: panel.datasource }] : []),
    ...(panel.targets ?? []).flatMap((target) =>
      target.datasource
        ? [{ where: `panel "${panel.title}" ${target.refId ?? ''}`, ref: target.datasource }]
        : [],
    ),
  ]);
  const fromVariables = (dashboard.templating?.list ?? []).flatMap((variable) =>
    variable.datasource ? [{ where: `variable "${variable.name}"`, ref: variable.datasource }] : [],
  );

  return [...fromPanels, ...fromVariables];
}

describe('grafana dashboards', () => {
  it('include at least one file', () => {
    expect(dashboardFiles.length).toBeGreaterThan(0);
  });

  it('have unique uids', () => {
    const uids = dashboards.map(({ dashboard }) => dashboard.uid);

    expect(uids.every(Boolean)).toBe(true);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it.each(dashboards.map(({ file, dashboard }) => [file, dashboard]))(
    '%s has unique panel ids',
    (_file, dashboard) => {
      const ids = allPanels(dashboard.panels).map((panel) => panel.id);
      const duplicates = ids.filter((id, index) => ids.indexOf(id) !== index);

      expect(ids.every((id) => Number.isInteger(id))).toBe(true);
      expect(duplicates).toEqual([]);
    },
  );

  it.each(dashboards.map(({ file, dashboard }) => [file, dashboard]))(
    '%s queries only known metrics',
    (_file, dashboard) => {
      const unknown = expressions(dashboard).flatMap(({ where, expr }) =>
        extractMetricNames(expr)
          .filter((name) => !isKnownSeries(name, recordingRules))
          .map((name) => `${where}: ${name}`),
      );

      expect(unknown).toEqual([]);
    },
  );

  it.each(dashboards.map(({ file, dashboard }) => [file, dashboard]))(
    '%s has a query in every panel',
    (_file, dashboard) => {
      const empty = allPanels(dashboard.panels)
        .filter((panel) => panel.type !== 'row')
        .filter((panel) => !(panel.targets ?? []).some((target) => target.expr))
        .map((panel) => panel.title);

      expect(empty).toEqual([]);
    },
  );

  it.each(dashboards.map(({ file, dashboard }) => [file, dashboard]))(
    '%s references data sources by provisioned uid',
    (_file, dashboard) => {
      const uids = new Set(dataSources.map((source) => source.uid));
      const bad = dataSourceRefs(dashboard)
        .filter(({ ref }) => typeof ref === 'string' || !ref.uid || !uids.has(ref.uid))
        .map(({ where, ref }) => `${where}: ${JSON.stringify(ref)}`);

      expect(bad).toEqual([]);
    },
  );

  it.each(dashboards.map(({ file, dashboard }) => [file, dashboard]))(
    '%s enables exemplars on latency queries',
    (_file, dashboard) => {
      const withoutExemplars = allPanels(dashboard.panels)
        .filter((panel) => panel.type === 'timeseries')
        .flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target })))
        .filter(
          ({ target }) =>
            /histogram_quantile\(.*_bucket/.test(target.expr ?? '') && target.exemplar !== true,
        )
        .map(({ panel, target }) => `${panel.title} ${target.refId}`);

      expect(withoutExemplars).toEqual([]);
    },
  );

  describe('coverage', () => {
    const exprs = dashboards.flatMap(({ dashboard }) =>
      expressions(dashboard).map(({ expr }) => expr),
    );
    const shownMetrics = new Set(
      exprs.flatMap(extractMetricNames).map((name) => catalogMetricOf(name) ?? name),
    );

    it.each(catalogMetricNames().map((name) => [name]))('shows %s', (name) => {
      expect(shownMetrics).toContain(name);
    });

    it.each([
      ['process_cpu_seconds_total'],
      ['process_resident_memory_bytes'],
      ['nodejs_heap_size_used_bytes'],
      ['nodejs_eventloop_lag_p99_seconds'],
      ['nodejs_gc_duration_seconds_sum'],
    ])('shows process metric %s', (name) => {
      expect(exprs.some((expr) => extractMetricNames(expr).includes(name))).toBe(true);
    });

    it.each([['0.5'], ['0.9'], ['0.99']])(
      'shows the %s quantile of latency per route',
      (quantile) => {
        const pattern = new RegExp(
          `histogram_quantile\\(${quantile.replace('.', '\\.')}, sum by \\(le, http_route\\) \\(rate\\(http_server_request_duration_seconds_bucket\\{`,
        );

        expect(exprs.some((expr) => pattern.test(expr))).toBe(true);
      },
    );

    it('shows token time left as expiry minus now', () => {
      expect(
        exprs.some((expr) =>
          /suno_session_token_expiry_timestamp_seconds\{[^}]*\}\) - time\(\)/.test(expr),
        ),
      ).toBe(true);
    });
  });
});

describe('grafana provisioning', () => {
  const grafanaMounts = composeBindMounts(readCompose(), 'grafana');

  it('provisions Prometheus and Jaeger by uid', () => {
    expect(dataSources.find((source) => source.uid === 'prometheus')?.type).toBe('prometheus');
    expect(dataSources.find((source) => source.uid === 'jaeger')?.type).toBe('jaeger');
  });

  it('links trace_id exemplars to Jaeger', () => {
    const prometheus = dataSources.find((source) => source.uid === 'prometheus');

    expect(prometheus?.jsonData?.exemplarTraceIdDestinations).toContainEqual(
      expect.objectContaining({ name: 'trace_id', datasourceUid: 'jaeger' }),
    );
  });

  it('points data sources at compose services', () => {
    const services = Object.keys(readCompose().services);
    const hosts = dataSources.map((source) => new URL(source.url).hostname);

    expect(services).toEqual(expect.arrayContaining(hosts));
  });

  it('mounts the provisioning folder where Grafana reads it', () => {
    expect(grafanaMounts).toContainEqual({
      source: 'deploy/grafana/provisioning',
      target: '/etc/grafana/provisioning',
    });
  });

  it('loads dashboards from the folder compose mounts', () => {
    const providers = readYaml<{ providers: { options: { path: string } }[] }>(
      PROVIDERS_PATH,
    ).providers;
    const dashboardMount = grafanaMounts.find((mount) => mount.source === DASHBOARD_DIR);

    expect(dashboardMount).toBeDefined();
    expect(providers.map((provider) => provider.options.path)).toContain(dashboardMount?.target);
  });
});
