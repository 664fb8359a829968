import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { allMetrics } from '../../runtime/contract/metrics.js';
import type { MetricSource } from '../../runtime/contract/metrics.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';
import { fixtureStages } from '../support/fixture-stages.js';
import { eventually } from '../support/processes.js';
import { startTestWorker } from '../support/worker.js';

const environment = await useTestEnvironment();
const api = await startTestApi(environment);
const worker = await startTestWorker(
  environment,
  fixtureStages({ ledger: join(environment.dir, 'ledger'), narrationMs: 50 }),
);
const { key } = await createTestKey(environment);

function declared(page: string): Set<string> {
  return new Set([...page.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`));
}

function expectCatalog(page: string, role: MetricSource) {
  const types = declared(page);
  for (const metric of allMetrics) {
    const entry = `${metric.name} ${metric.type}`;
    if (metric.sources.includes(role)) assert.ok(types.has(entry), `${role} /metrics lacks ${entry}`);
    else assert.ok(!types.has(entry), `${role} /metrics exposes ${metric.name}, which is not its own`);
  }
  assert.ok(types.has('process_cpu_user_seconds_total counter'), 'default Node metrics missing');
  assert.match(page, new RegExp(`^archibald_build_info\\{version="[^"]+",role="${role}"\\} 1$`, 'm'));
}

test('the API exposes every catalog metric whose source is the API, with live values', async () => {
  const call = apiClient(api.url, key);
  const { id } = (await call('POST', '/v1/videos', { body: { topic: 'metrics' } })).body;
  await eventually('completed', async () =>
    (await call('GET', `/v1/videos/${id}`)).body.status === 'completed' ? true : undefined,
  );
  // BullMQ marks the job completed just after the video row is: read until the gauge shows it.
  const page = await eventually('queue gauge shows the completed job', async () => {
    const body = await (await fetch(`${api.metricsUrl}/metrics`)).text();
    return /^archibald_queue_jobs\{state="completed"\} 1$/m.test(body) ? body : undefined;
  });
  expectCatalog(page, 'api');
  assert.match(page, /^archibald_videos_submitted_total 1$/m);
  assert.match(page, /^archibald_queue_jobs\{state="completed"\} 1$/m);
  assert.match(page, /^archibald_queue_jobs\{state="waiting"\} 0$/m);
  assert.match(
    page,
    /^archibald_http_request_duration_seconds_count\{route="\/v1\/videos",method="POST",status_code="202"\} 1$/m,
  );
});

test('the worker exposes every catalog metric whose source is the worker on its own port', async () => {
  const page = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
  expectCatalog(page, 'worker');
  assert.match(page, /^archibald_videos_finished_total\{outcome="completed"\} 1$/m);
  assert.match(page, /^archibald_stage_duration_seconds_count\{stage="narration",outcome="ok"\} 1$/m);
  assert.match(page, /^archibald_worker_concurrency 2$/m);
  assert.match(page, /^archibald_provider_cost_usd_total\{provider="fixture-llm"\} 0.002$/m);
  const health = await fetch(`${worker.metricsUrl}/health`);
  assert.equal(health.status, 200);
});
