import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../helpers/app.js';

const root = new URL('../../', import.meta.url);
const dashboardUrl = new URL('docker/grafana/dashboards/rowpool.json', root);
const datasourceUrl = new URL('docker/grafana/provisioning/datasources/prometheus.yaml', root);

interface DataSourceRef {
  type?: string;
  uid?: string;
}

interface Target {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  datasource?: DataSourceRef | string | null;
}

interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: DataSourceRef | string | null;
  targets?: Target[];
  panels?: Panel[];
}

interface Variable {
  name: string;
  type: string;
  datasource?: DataSourceRef | string | null;
  definition?: string;
  query?: string | { query?: string };
  includeAll?: boolean;
  multi?: boolean;
  allValue?: string;
}

interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

async function loadDashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(dashboardUrl, 'utf8')) as Dashboard;
}

/** Every panel, including panels nested in collapsed rows. */
function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

function queryPanels(dashboard: Dashboard): Panel[] {
  return allPanels(dashboard.panels).filter((p) => p.type !== 'row');
}

// PromQL words that look like identifiers but are not metric names.
const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'inf',
  'nan',
]);

/**
 * Metric names referenced by a PromQL expression. Removes string literals, label matchers `{...}`,
 * range/subquery selectors `[...]` (which may hold Grafana variables such as `$__rate_interval`) and
 * grouping label lists (`by (...)`, `on (...)`, ...); what is left that looks like an identifier and
 * is not a function call (`name(`) or a keyword is a metric name.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w:.$])[a-zA-Z_:][a-zA-Z0-9_:]*(?![\w:(])(?!\s*\()/g)) {
    const name = m[0];
    if (!PROMQL_KEYWORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}

/** `# TYPE name type` lines of a Prometheus text exposition. */
function exposedTypes(exposition: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const line of exposition.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)/.exec(line);
    if (m) types.set(m[1], m[2]);
  }
  return types;
}

/** Whether `name` is a series the exposition produces (histogram/summary suffixes included). */
function isExposed(name: string, types: Map<string, string>): boolean {
  if (types.has(name)) return true;
  const m = /^(.+)_(bucket|sum|count)$/.exec(name);
  if (!m) return false;
  const type = types.get(m[1]);
  return type === 'histogram' || (type === 'summary' && m[2] !== 'bucket');
}

function exprsOf(dashboard: Dashboard): { panel: string; expr: string }[] {
  return queryPanels(dashboard).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title ?? `#${p.id}`, expr: t.expr ?? '' })),
  );
}

describe('metricNames', () => {
  it('extracts metric names from the kinds of expressions the dashboard uses', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{route!="/metrics"}[$__rate_interval])))',
      ),
    ).toEqual(['http_request_duration_seconds_bucket']);
    expect(metricNames('sum by (op, status) (rate(rowpool_jobs_total[5m] offset 1h))')).toEqual([
      'rowpool_jobs_total',
    ]);
    expect(metricNames('sum(rowpool_dataset_bytes) / max(rowpool_memory_limit_bytes) > bool 1e9')).toEqual([
      'rowpool_dataset_bytes',
      'rowpool_memory_limit_bytes',
    ]);
    expect(metricNames('process_resident_memory_bytes')).toEqual(['process_resident_memory_bytes']);
  });
});

describe('grafana dashboard', () => {
  it('only queries metrics the service exposes', async () => {
    const dashboard = await loadDashboard();
    const app = await buildApp(testConfig());
    let exposition: string;
    try {
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      exposition = res.body;
    } finally {
      await app.close();
    }
    const types = exposedTypes(exposition);
    expect(types.size).toBeGreaterThan(0);

    const missing: string[] = [];
    let checked = 0;
    for (const { panel, expr } of exprsOf(dashboard)) {
      const names = metricNames(expr);
      expect(names, `panel "${panel}": no metric in ${expr}`).not.toEqual([]);
      for (const name of names) {
        checked++;
        if (!isExposed(name, types)) missing.push(`${name} (panel "${panel}")`);
      }
    }
    expect(checked).toBeGreaterThan(0);
    expect(missing, 'dashboard metrics missing from GET /metrics').toEqual([]);
  });

  it('has the expected panels and a consistent data source', async () => {
    const dashboard = await loadDashboard();
    const panels = queryPanels(dashboard);
    expect(dashboard.uid).toBe('rowpool');
    expect(panels.length).toBeGreaterThan(0);

    // Every panel has at least one non-empty query.
    for (const p of panels) {
      expect(p.targets?.length, `panel "${p.title}" has no targets`).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.expr?.trim(), `panel "${p.title}" ${t.refId}`).toBeTruthy();
    }

    const used = new Set(exprsOf(dashboard).flatMap(({ expr }) => metricNames(expr)));
    for (const metric of [
      'rowpool_event_loop_lag_seconds',
      'rowpool_jobs_total',
      'rowpool_job_duration_seconds_bucket',
      'rowpool_rows_processed_total',
      'rowpool_dataset_bytes',
      'rowpool_result_bytes',
      'rowpool_memory_limit_bytes',
      'rowpool_pool_utilization',
      'rowpool_pool_queue_size',
      'http_request_duration_seconds_bucket',
      'process_resident_memory_bytes',
    ]) {
      expect(used.has(metric), `no panel queries ${metric}`).toBe(true);
    }

    const jobDuration = exprsOf(dashboard)
      .map(({ expr }) => expr)
      .filter((e) => e.includes('rowpool_job_duration_seconds_bucket'));
    for (const q of ['0.5', '0.95', '0.99']) {
      expect(
        jobDuration.some((e) => e.includes(`histogram_quantile(${q},`)),
        `no job duration quantile ${q}`,
      ).toBe(true);
    }

    // The provisioned data source's uid is the one every panel and target refers to.
    const provisioning = await readFile(datasourceUrl, 'utf8');
    const uid = /^\s*uid:\s*['"]?([\w-]+)['"]?\s*$/m.exec(provisioning)?.[1];
    expect(uid).toBe('prometheus');
    expect(provisioning).toMatch(/^\s*type:\s*prometheus\s*$/m);
    for (const p of panels) {
      expect(p.datasource, `panel "${p.title}"`).toEqual({ type: 'prometheus', uid });
      for (const t of p.targets ?? []) {
        if (t.datasource != null) expect(t.datasource, `panel "${p.title}" ${t.refId}`).toEqual(p.datasource);
      }
    }
  });
});

/** Each occurrence of a metric name in `expr` with its label matchers, `''` when it has none. */
function selectors(expr: string): { name: string; matchers: string }[] {
  const found: { name: string; matchers: string }[] = [];
  for (const name of metricNames(expr)) {
    const at = new RegExp(`(?<![\\w:])${name}(?![\\w:])(\\{[^}]*\\})?`, 'g');
    for (const m of expr.matchAll(at)) found.push({ name, matchers: m[1] ?? '' });
  }
  return found;
}

describe('the instance variable', () => {
  it('selectors() finds every metric and its matchers', () => {
    expect(
      selectors('sum(a_total{instance=~"$instance"}) / sum(b{job="x"}) + rate(a_total[5m]) + ab_total'),
    ).toEqual([
      { name: 'a_total', matchers: '{instance=~"$instance"}' },
      { name: 'a_total', matchers: '' },
      { name: 'b', matchers: '{job="x"}' },
      { name: 'ab_total', matchers: '' },
    ]);
  });

  it('is a multi-value query variable over the rowpool instances', async () => {
    const dashboard = await loadDashboard();
    const variable = dashboard.templating.list.find((v) => v.name === 'instance');
    expect(variable?.type).toBe('query');
    expect(variable?.datasource).toEqual({ type: 'prometheus', uid: 'prometheus' });
    const query = typeof variable?.query === 'string' ? variable.query : variable?.query?.query;
    // Only series rowpool exposes: Prometheus's own process metrics must not add its instance.
    expect(query).toMatch(/^label_values\(rowpool_\w+,\s*instance\)$/);
    expect(variable?.definition).toBe(query);
    expect(variable?.includeAll).toBe(true);
    expect(variable?.multi).toBe(true);
    // Without a custom all-value, "All" means the listed rowpool instances rather than `.*`, which
    // would match the Prometheus job's process_* series too.
    expect(variable?.allValue).toBeUndefined();
  });

  it("filters every panel's every metric by it", async () => {
    const dashboard = await loadDashboard();
    const unfiltered: string[] = [];
    let checked = 0;
    for (const { panel, expr } of exprsOf(dashboard)) {
      for (const { name, matchers } of selectors(expr)) {
        checked++;
        if (!matchers.includes('instance=~"$instance"')) unfiltered.push(`${name} (panel "${panel}")`);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(exprsOf(dashboard).length);
    expect(unfiltered).toEqual([]);
  });
});

describe('the event-loop lag panel', () => {
  it('shows rowpool_event_loop_lag_seconds by stat and instance, the worst of each step', async () => {
    const dashboard = await loadDashboard();
    const panels = queryPanels(dashboard).filter((p) =>
      (p.targets ?? []).some((t) => t.expr?.includes('rowpool_event_loop_lag_seconds')),
    );
    expect(panels.map((p) => p.title)).toEqual(['Event loop lag']);
    const [target] = panels[0].targets ?? [];
    // Scrapes are 5 s apart and a step is often longer: the worst keeps a short spike visible.
    expect(target.expr).toBe(
      'max_over_time(rowpool_event_loop_lag_seconds{instance=~"$instance"}[$__rate_interval])',
    );
    expect(target.legendFormat).toBe('{{stat}} {{instance}}');
  });
});
