/**
 * End to end with an Anthropic key: the real API and worker render a 15 s video whose script
 * Claude wrote (the real SDK against a local fake of the Messages API); the script stage records
 * the writer and the cost priced from the answer's usage, on the video and in the metrics. When
 * the provider fails, the video still renders with the offline writer's script, at no cost. A
 * repeated request is served from the worker's response cache at no cost, and the API's
 * /delegation/stats reports what the worker's calls did.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createApiKey } from '../../runtime/db/api-keys.js';
import { getStages } from '../../runtime/db/videos.js';
import { renderThroughApi } from '../../runtime/render/api-client.js';
import { STANDARD_VIDEO } from '../../runtime/render/request.js';
import type { ScriptDocument } from '../../runtime/stages/script/document.js';
import { pipelineStages } from '../../runtime/worker/pipeline-stages.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { testPool, useTestEnvironment } from '../support/environment.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';
import { startTestWorker } from '../support/worker.js';

const fake = await startFakeAnthropic();
after(() => fake.close());
const environment = await useTestEnvironment({
  ANTHROPIC_API_KEY: 'sk-ant-test',
  ANTHROPIC_BASE_URL: fake.url,
});
const api = await startTestApi(environment);
const config = environment.config();
const worker = await startTestWorker(environment, (metrics, providers) =>
  pipelineStages(config, metrics, providers),
);
const { key } = await createTestKey(environment);
const pool = testPool(environment);
const call = apiClient(api.url, key);
const spec = { ...STANDARD_VIDEO, topic: 'morning calm', durationSeconds: 15 } as const;

async function render(name: string, seed?: string) {
  const { video } = await renderThroughApi({
    apiUrl: api.url,
    apiKey: key,
    spec: seed ? { ...spec, seed } : spec,
    out: join(environment.dir, 'downloads', `${name}.mp4`),
    signal: new AbortController().signal,
    pollMs: 200,
    onProgress: () => {},
  });
  assert.equal(video.status, 'completed');
  const script = (await getStages(pool, video.id as string)).find((s) => s.stage === 'script');
  assert.ok(script);
  const stored = await call('GET', `/v1/videos/${video.id}`);
  return {
    video: stored.body as { costUsd: number; scriptWriter: string | null },
    script,
    doc: script.output as ScriptDocument,
  };
}

test('with an Anthropic key a 15 s video renders with a Claude script, and its cost is recorded', async () => {
  const { video, script, doc } = await render('claude');
  assert.equal(doc.writer, 'anthropic:claude-haiku-5-5');
  assert.equal(video.scriptWriter, 'anthropic:claude-haiku-5-5', 'the video says who wrote its script');
  assert.equal(doc.topic, 'morning calm');
  assert.deepEqual(
    fake.received.map((r) => r.model),
    ['claude-haiku-5-5'],
  );
  assert.ok(script.costUsd > 0, 'the script stage records its cost');
  assert.ok(Math.abs(video.costUsd - script.costUsd) < 1e-6, 'the video costs what its script did');
  const page = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
  const spent = /^archibald_provider_cost_usd_total\{provider="anthropic"\} (\S+)$/m.exec(page)?.[1];
  assert.ok(spent && Math.abs(Number(spent) - script.costUsd) < 1e-6, `provider cost metric: ${spent}`);
  assert.match(page, /^archibald_scripts_written_total\{writer="anthropic:claude-haiku-5-5"\} 1$/m);
  assert.match(
    page,
    /^archibald_provider_calls_total\{provider="anthropic",model="claude-haiku-5-5",outcome="ok"\} 1$/m,
  );
  const byModel =
    /^archibald_provider_model_cost_usd_total\{provider="anthropic",model="claude-haiku-5-5"\} (\S+)$/m.exec(
      page,
    )?.[1];
  assert.ok(byModel && Math.abs(Number(byModel) - script.costUsd) < 1e-6, `model cost metric: ${byModel}`);
  const tokens =
    /^archibald_provider_units_total\{provider="anthropic",model="claude-haiku-5-5",unit="tokens"\} (\S+)$/m.exec(
      page,
    )?.[1];
  assert.ok(Number(tokens) > 420, `billed tokens: ${tokens}`);
  assert.match(
    page,
    /^archibald_provider_call_seconds_count\{provider="anthropic",model="claude-haiku-5-5"\} 1$/m,
  );
});

test('when both models fail the video still renders, with the offline writer named on its script', async () => {
  fake.received.length = 0;
  fake.reply = () => ({ kind: 'status', status: 529, errorType: 'overloaded_error' });
  const { video, script, doc } = await render('offline');
  assert.equal(doc.writer, 'offline-template');
  assert.equal(video.scriptWriter, 'offline-template');
  assert.equal(script.costUsd, 0);
  assert.equal(video.costUsd, 0);
  assert.deepEqual(
    new Set(fake.received.map((r) => r.model)),
    new Set(['claude-haiku-5-5', 'claude-sonnet-5-5']),
  );
  const page = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
  assert.match(page, /^archibald_scripts_written_total\{writer="offline-template"\} 1$/m);
  assert.match(
    page,
    /^archibald_provider_escalations_total\{task="script",provider="anthropic",model="claude-haiku-5-5"\} 1$/m,
  );
  assert.match(
    page,
    /^archibald_provider_fallbacks_total\{task="script",provider="anthropic",model="claude-sonnet-5-5"\} 1$/m,
  );
});

test('a repeated request is served from the response cache at no cost, and /delegation/stats reports the calls', async () => {
  fake.reply = () => ({ kind: 'script' });
  fake.received.length = 0;
  const first = await render('first', 'repeat');
  assert.ok(first.script.costUsd > 0);
  assert.equal(fake.received.length, 1);
  const again = await render('again', 'repeat');
  assert.equal(fake.received.length, 1, 'no second call');
  assert.equal(again.script.costUsd, 0);
  assert.equal(again.video.costUsd, 0);
  assert.equal(again.doc.writer, 'anthropic:claude-haiku-5-5');
  assert.deepEqual(again.doc.sections, first.doc.sections);
  const page = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
  assert.match(page, /^archibald_script_cache_requests_total\{result="hit"\} 1$/m);

  const ops = await createApiKey(pool, 'ops', 'cli', { scopes: ['ops'] });
  const { status, body } = await apiClient(api.url, ops.key)('GET', '/delegation/stats');
  assert.equal(status, 200);
  const cheap = body.models.find((m: { model: string }) => m.model === 'claude-haiku-5-5');
  // The first video's call, the second's failed one (after its retries), the repeat's first render.
  assert.equal(cheap.successes, 2);
  assert.equal(cheap.cacheHits, 1);
  assert.equal(body.cache.script.hits, 1);
  assert.equal(body.costPerCompletedVideo.lastHour.videos, 4);
});
