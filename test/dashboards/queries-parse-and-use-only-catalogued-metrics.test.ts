import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allMetrics,
  exposedSeriesNames,
  QUEUE_STATES,
  VIDEO_OUTCOMES,
  metricCatalog,
} from '../../runtime/contract/metrics.js';
import { exporterMetricNames } from '../../dashboards/exporters.js';
import { buildDashboards, buildRuleGroups } from '../../dashboards/index.js';
import { isAlertRule } from '../../dashboards/rules/types.js';
import type { BuiltDashboard } from '../../dashboards/panels.js';
import { dashboardQueries, inspectPromql, substituteGrafanaVariables } from './promql-inspect.js';

const dashboards = buildDashboards() as BuiltDashboard[];
const groups = buildRuleGroups();
const recordNames = new Set(groups.flatMap((g) => g.rules).flatMap((r) => ('record' in r ? [r.record] : [])));

const catalogSeries = new Map<string, (typeof allMetrics)[number]>();
for (const metric of allMetrics)
  for (const name of exposedSeriesNames(metric)) catalogSeries.set(name, metric);

// Labels Prometheus attaches to every scraped series (target labels), on top of the catalog's.
const targetLabels = new Set(['namespace', 'job', 'instance', 'pod', 'service', 'container']);

const queries = [
  ...dashboards.flatMap((d) =>
    dashboardQueries(d).map((q) => ({
      ...q,
      expr: substituteGrafanaVariables(q.expr, { rateInterval: '5m', range: '6h' }),
    })),
  ),
  ...groups.flatMap((g) =>
    g.rules.map((r) => ({ where: `rule ${isAlertRule(r) ? r.alert : r.record} (${g.name})`, expr: r.expr })),
  ),
];

test('there are queries to check', () => {
  assert.ok(queries.length > 60, `only ${queries.length} queries found`);
});

test('every PromQL expression in the dashboards and rules parses', () => {
  for (const q of queries) {
    assert.ok(q.expr.trim().length > 0, `${q.where}: empty expression`);
    assert.deepEqual(inspectPromql(q.expr).errors, [], `${q.where}: ${q.expr}`);
  }
});

test('the checker itself reports syntax errors and metric names', () => {
  assert.notDeepEqual(inspectPromql('sum(rate(x[5m])').errors, []);
  assert.notDeepEqual(inspectPromql('rate(x[5m]) +').errors, []);
  assert.deepEqual(inspectPromql('a{b="c"} / on (d) e:f:g').metrics, ['a', 'e:f:g']);
});

test('every metric a query uses is in the runtime catalog, the exporters catalog or a recording rule', () => {
  for (const q of queries) {
    for (const name of inspectPromql(q.expr).metrics) {
      assert.ok(
        catalogSeries.has(name) || exporterMetricNames.has(name) || recordNames.has(name),
        `${q.where} uses ${name}, which no catalog names`,
      );
    }
  }
});

test('queries on catalog metrics only match labels the metric has, with values it can take', () => {
  const boundedValues: Record<string, Record<string, readonly string[]>> = {
    [metricCatalog.videosFinished.name]: { outcome: VIDEO_OUTCOMES },
    [metricCatalog.queueJobs.name]: { state: QUEUE_STATES },
  };
  for (const q of queries) {
    for (const m of inspectPromql(q.expr).matchers) {
      const metric = catalogSeries.get(m.metric);
      if (!metric) continue;
      const labels = new Set([
        ...metric.labelNames,
        ...targetLabels,
        ...(metric.type === 'histogram' ? ['le'] : []),
      ]);
      assert.ok(labels.has(m.label), `${q.where}: ${m.metric} has no label ${m.label}`);
      const allowed = boundedValues[metric.name]?.[m.label];
      if (allowed) {
        const values = m.op === '=~' ? m.value.split('|') : [m.value];
        for (const v of values)
          assert.ok(allowed.includes(v), `${q.where}: ${m.label}="${v}" is not a value of ${metric.name}`);
      }
      if (m.label === 'le') {
        assert.ok(
          metric.buckets?.some((b) => String(b) === m.value),
          `${q.where}: le="${m.value}" is not a bucket of ${metric.name}`,
        );
      }
    }
  }
});

test('every catalog metric is on at least one dashboard', () => {
  const used = new Set(
    dashboards
      .flatMap((d) => dashboardQueries(d))
      .flatMap(
        (q) => inspectPromql(substituteGrafanaVariables(q.expr, { rateInterval: '5m', range: '6h' })).metrics,
      ),
  );
  const variableQueries = dashboards.flatMap((d) => JSON.stringify(d.json.templating));
  for (const metric of allMetrics) {
    assert.ok(
      exposedSeriesNames(metric).some((n) => used.has(n)) ||
        variableQueries.some((v) => v.includes(metric.name)),
      `${metric.name} is on no dashboard`,
    );
  }
});

test('every exporter metric listed in dashboards/exporters.ts is used', () => {
  const used = new Set(queries.flatMap((q) => inspectPromql(q.expr).metrics));
  for (const name of exporterMetricNames) assert.ok(used.has(name), `${name} is listed but unused`);
});
