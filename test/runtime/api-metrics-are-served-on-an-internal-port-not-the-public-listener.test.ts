import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../runtime/config/load.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { useTestEnvironment } from '../support/environment.js';

const environment = await useTestEnvironment();
const api = await startTestApi(environment);
const { key } = await createTestKey(environment);

test('the public listener does not serve /metrics, with or without a key', async () => {
  for (const caller of [apiClient(api.url), apiClient(api.url, key)]) {
    const r = await caller('GET', '/metrics');
    assert.equal(r.status, 404);
    assert.doesNotMatch(JSON.stringify(r.body), /archibald_|process_cpu/);
  }
  const docs = await apiClient(api.url)('GET', '/docs/json');
  assert.ok(!Object.keys(docs.body.paths).includes('/metrics'), 'the OpenAPI document lists /metrics');
});

test('the API serves its metrics and a /health on its own internal port, counting public requests', async () => {
  const internal = new URL(api.metricsUrl);
  assert.notEqual(internal.port, new URL(api.url).port);
  assert.equal((await apiClient(api.url, key)('GET', '/v1/videos')).status, 200);
  const page = await fetch(`${api.metricsUrl}/metrics`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await page.text();
  assert.match(text, /^archibald_build_info\{version="[^"]+",role="api"\} 1$/m);
  assert.match(
    text,
    /^archibald_http_request_duration_seconds_count\{route="\/v1\/videos",method="GET",status_code="200"\} 1$/m,
  );
  const health = await fetch(`${api.metricsUrl}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
  // Nothing of the public API is on the internal port.
  assert.equal((await fetch(`${api.metricsUrl}/v1/videos`)).status, 404);
});

test('API_METRICS_PORT defaults to 9465, apart from PORT 8080 and the worker’s METRICS_PORT 9464', () => {
  const config = loadConfig({});
  assert.deepEqual([config.port, config.metricsPort, config.apiMetricsPort], [8080, 9464, 9465]);
});
