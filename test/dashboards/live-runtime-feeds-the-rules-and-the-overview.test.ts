/**
 * The live check: the real API and worker process a few videos while a real Prometheus scrapes
 * them with the generated rules loaded; then every recording rule and every Overview panel query
 * must return data, no rule may fail to evaluate, and each process must expose its part of the
 * metric catalog. The worker runs the test fixture stages (real stages that do not render).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { allMetrics, metricCatalog } from '../../runtime/contract/metrics.js';
import { renderRulesFile } from '../../dashboards/artifacts.js';
import { buildDashboards, buildRuleGroups, scrapeJobs } from '../../dashboards/index.js';
import type { BuiltDashboard } from '../../dashboards/panels.js';
import { sli } from '../../dashboards/rules/slis.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { pipelineStages } from '../../runtime/worker/pipeline-stages.js';
import { startTestWorker } from '../support/worker.js';
import { dashboardQueries, substituteGrafanaVariables } from './promql-inspect.js';
import { startPrometheus } from './prometheus-server.js';
import type { PrometheusServer } from './prometheus-server.js';

const NAMESPACE = 'archibald-live';

// Set up at the top level so that the clean-up useTestEnvironment registers runs after the tests.
const environment = await useTestEnvironment({ WORKER_CONCURRENCY: '2' });
const api = await startTestApi(environment);
// With the process's metrics, so the offline script writer counts its scripts (Scripts by writer).
const workerConfig = environment.config();
const worker = await startTestWorker(environment, (metrics) => pipelineStages(workerConfig, metrics));
const call = apiClient(api.url, (await createTestKey(environment)).key);
const prometheus = await startPrometheus({
  rulesYaml: renderRulesFile(),
  targets: [
    { job: scrapeJobs.api, url: api.metricsUrl, labels: { namespace: NAMESPACE } },
    { job: scrapeJobs.worker, url: worker.metricsUrl, labels: { namespace: NAMESPACE } },
  ],
});
after(() => prometheus.stop());

function server(): PrometheusServer {
  return prometheus;
}

async function completedScraped(count: number): Promise<boolean> {
  const samples = await server().query(`sum(${metricCatalog.videosFinished.name}{outcome="completed"})`);
  return samples[0]?.value === count;
}

/** Submits small videos and waits for them to render; a failed render fails the test at once. */
async function submitAndWait(count: number): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await call('POST', '/v1/videos', {
      body: { topic: `live check ${i}`, durationSeconds: 15, aspect: '1:1', burnCaptions: false },
    });
    assert.equal(response.status, 202, JSON.stringify(response.body));
    ids.push(response.body.id as string);
  }
  let failed: unknown;
  // The machine may be shared and busy: give the renders minutes, not seconds.
  await server().waitUntil(
    `${count} videos to complete`,
    async () => {
      const views = await Promise.all(ids.map((id) => call('GET', `/v1/videos/${id}`)));
      failed = views.find((v) => v.body.status === 'failed')?.body;
      return failed !== undefined || views.every((v) => v.body.status === 'completed');
    },
    600_000,
  );
  assert.equal(failed, undefined, `a video failed to render: ${JSON.stringify(failed)}`);
}

test('a running API and worker, scraped by Prometheus, feed every recording rule', async () => {
  const prom = server();
  await prom.waitUntil('both targets to be up', async () => {
    const up = await prom.query('up == 1');
    return up.length === 2;
  });
  // One video first, seen by Prometheus, then more: rates need an increase between two samples.
  await submitAndWait(1);
  // Some reads and a client error, as real traffic has.
  assert.equal((await call('GET', '/v1/videos')).status, 200);
  assert.equal((await call('GET', '/v1/videos/00000000-0000-4000-8000-000000000000')).status, 404);
  await prom.waitUntil('the first completion to be scraped', () => completedScraped(1));
  await submitAndWait(2);
  await prom.waitUntil('all completions to be scraped', () => completedScraped(3));

  const records = buildRuleGroups()
    .flatMap((g) => g.rules)
    .flatMap((r) => ('record' in r ? [r.record] : []));
  let missing: string[] = [];
  await prom
    .waitUntil('every recording rule to return a value', async () => {
      missing = [];
      for (const record of records) {
        const samples = await prom.query(record);
        if (samples.length === 0 || !samples.every((s) => Number.isFinite(s.value))) missing.push(record);
      }
      return missing.length === 0;
    })
    .catch((error: Error) => {
      throw new Error(`${error.message}\nrecording rules without a finite value: ${missing.join(', ')}`);
    });

  const bySli = async (expr: string) => (await prom.query(expr))[0]?.value;
  assert.equal(await bySli(sli.successRatio), 1);
  assert.equal(await bySli(sli.apiErrorRatio('5m')), 0);
  const cost = await prom.query(sli.costPerVideo);
  assert.deepEqual(
    cost.map((s) => s.metric.namespace),
    [NAMESPACE],
    'the SLIs are per namespace',
  );
});

test('every Overview panel query returns data', async () => {
  const prom = server();
  const overview = (buildDashboards() as BuiltDashboard[]).find((d) => d.uid === 'archibald-overview');
  assert.ok(overview);
  const queries = dashboardQueries(overview);
  assert.ok(queries.length >= 8);
  for (const q of queries) {
    // Grafana's $__rate_interval is at least four scrape intervals; 1 m covers the whole check.
    const expr = substituteGrafanaVariables(q.expr, { rateInterval: '1m', range: '1h' });
    const samples = await prom.query(expr);
    assert.ok(samples.length > 0, `${q.where} returned no data:\n${expr}`);
    for (const s of samples) assert.ok(Number.isFinite(s.value), `${q.where} returned ${s.value}:\n${expr}`);
  }
});

test('the Pipeline, API and Cost panels return data too, but for events this run need not cause', async () => {
  // A stage failure, a caller over the rate limit, a video the queue lost or a paid provider call
  // (this run renders offline; a latency quantile has no honest zero) is not part of this run.
  const notCaused = new Set([
    'archibald-cost / Provider call latency (p95) / A',
    'archibald-pipeline / Stage failures / A',
    'archibald-api / Rate-limited requests / A',
    'archibald-pipeline / Videos reconciled from Postgres / A',
    'archibald-pipeline / Videos reconciled from Postgres / B',
  ]);
  const dashboards = (buildDashboards() as BuiltDashboard[]).filter((d) =>
    ['archibald-pipeline', 'archibald-api', 'archibald-cost'].includes(d.uid),
  );
  for (const q of dashboards.flatMap((d) => dashboardQueries(d)).filter((q) => !notCaused.has(q.where))) {
    const expr = substituteGrafanaVariables(q.expr, { rateInterval: '1m', range: '1h' });
    const samples = await server().query(expr);
    assert.ok(samples.length > 0, `${q.where} returned no data:\n${expr}`);
  }
});

test("Prometheus' own parser accepts every query of every dashboard", async () => {
  for (const dashboard of buildDashboards() as BuiltDashboard[]) {
    for (const q of dashboardQueries(dashboard)) {
      const expr = substituteGrafanaVariables(q.expr, { rateInterval: '1m', range: '1h' });
      await assert.doesNotReject(server().query(expr), `${q.where}:\n${expr}`);
    }
  }
});

test('Prometheus evaluates every rule without an error', async () => {
  const rules = await server().rules();
  const expected = buildRuleGroups().flatMap((g) => g.rules).length;
  assert.equal(rules.length, expected);
  for (const rule of rules) {
    assert.ok(!rule.lastError, `${rule.name}: ${rule.lastError}`);
    assert.notEqual(rule.health, 'err', rule.name);
  }
});

test('the API and the worker each expose their part of the metric catalog on /metrics', async () => {
  const pages = {
    api: await (await fetch(`${api.metricsUrl}/metrics`)).text(),
    worker: await (await fetch(`${worker.metricsUrl}/metrics`)).text(),
  };
  for (const metric of allMetrics) {
    for (const role of ['api', 'worker'] as const) {
      const exposed = pages[role].includes(`# TYPE ${metric.name} ${metric.type}\n`);
      assert.equal(exposed, metric.sources.includes(role), `${metric.name} on the ${role}'s /metrics`);
    }
  }
});
