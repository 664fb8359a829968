/**
 * End to end with all three providers on: the real API and worker render a 15 s 720p video whose
 * script Claude wrote (the real SDK against a local fake of the Messages API), whose narration
 * ElevenLabs spoke and whose background is FAL stills (both against local fakes of their HTTP
 * APIs, answering real audio and images). The video's cost is the sum of what each provider was
 * paid, recorded per stage, per provider in the metrics, and reported through ProviderEvents.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { getStages } from '../../runtime/db/videos.js';
import { createStages } from '../../runtime/pipeline/stages.js';
import type { ProviderCall, ProviderEvents } from '../../runtime/providers/provider-events.js';
import { renderThroughApi } from '../../runtime/render/api-client.js';
import { STANDARD_VIDEO } from '../../runtime/render/request.js';
import { providerMetrics, scriptOptions, stageOptions } from '../../runtime/worker/pipeline-stages.js';
import { apiClient, createTestKey, startTestApi } from '../support/api.js';
import { testPool, useTestEnvironment } from '../support/environment.js';
import { startFakeAnthropic } from '../support/fake-anthropic.js';
import { startFakeElevenLabs } from '../support/fake-elevenlabs.js';
import { startFakeFal } from '../support/fake-fal.js';
import { startTestWorker } from '../support/worker.js';

const anthropic = await startFakeAnthropic();
const elevenlabs = await startFakeElevenLabs();
const fal = await startFakeFal();
after(() => Promise.all([anthropic.close(), elevenlabs.close(), fal.close()]));
const environment = await useTestEnvironment({
  ANTHROPIC_API_KEY: 'sk-ant-test',
  ANTHROPIC_BASE_URL: anthropic.url,
  ELEVENLABS_API_KEY: 'xi-test',
  ELEVENLABS_BASE_URL: elevenlabs.url,
  FAL_KEY: 'fal-test',
  FAL_BASE_URL: fal.url,
  VIDEO_BUDGET_USD: '0.10',
});
const api = await startTestApi(environment);
const config = environment.config();

const calls: ProviderCall[] = [];
const served: string[] = [];
/** The worker's own events (metrics), with every event also kept here. */
function recording(inner: ProviderEvents): ProviderEvents {
  return {
    call: (call) => {
      calls.push(call);
      inner.call(call);
    },
    skip: (provider, model, reason) => inner.skip(provider, model, reason),
    served: (task, by) => {
      served.push(`${task}:${by}`);
      inner.served(task, by);
    },
  };
}
const worker = await startTestWorker(environment, (metrics) => {
  const events = recording(providerMetrics(metrics));
  return createStages({
    ...stageOptions(config, metrics),
    script: { ...scriptOptions(config, metrics), events },
    events,
  });
});
const { key } = await createTestKey(environment);
const pool = testPool(environment);
const call = apiClient(api.url, key);

test('a 15 s video with Claude, ElevenLabs and FAL on costs what the three were paid, per provider', async () => {
  const spec = { ...STANDARD_VIDEO, topic: 'morning calm', durationSeconds: 15 } as const;
  const { video } = await renderThroughApi({
    apiUrl: api.url,
    apiKey: key,
    spec,
    out: join(environment.dir, 'downloads', 'all-providers.mp4'),
    signal: new AbortController().signal,
    pollMs: 200,
    onProgress: () => {},
  });
  assert.equal(video.status, 'completed');
  const stages = await getStages(pool, video.id as string);
  const stage = (name: string) => stages.find((s) => s.stage === name);
  const output = <T>(name: string) => stage(name)?.output as T;
  assert.equal(output<{ writer: string }>('script').writer, 'anthropic:claude-haiku-5-5');
  assert.equal(output<{ narrator: string }>('narration').narrator, 'elevenlabs:eleven_flash_v2_5');
  assert.equal(output<{ source: string }>('visuals').source, 'fal:fal-ai/flux/schnell');
  assert.deepEqual(served.sort(), [
    'narration:elevenlabs:eleven_flash_v2_5',
    'script:anthropic:claude-haiku-5-5',
    'visuals:fal:fal-ai/flux/schnell',
  ]);

  const byProvider = (provider: string) =>
    calls.filter((c) => c.provider === provider).reduce((sum, c) => sum + c.costUsd, 0);
  const paid = {
    anthropic: byProvider('anthropic'),
    elevenlabs: byProvider('elevenlabs'),
    fal: byProvider('fal'),
  };
  assert.ok(paid.anthropic > 0 && paid.elevenlabs > 0 && paid.fal > 0, JSON.stringify(paid));
  assert.equal(calls.filter((c) => c.provider === 'elevenlabs').length, elevenlabs.received.length);
  assert.equal(calls.filter((c) => c.provider === 'fal').length, fal.received.length);
  // Stored costs keep six decimals.
  const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;
  assert.ok(close(stage('script')?.costUsd ?? 0, paid.anthropic));
  assert.ok(close(stage('narration')?.costUsd ?? 0, paid.elevenlabs));
  assert.ok(close(stage('visuals')?.costUsd ?? 0, paid.fal));

  const stored = (await call('GET', `/v1/videos/${video.id}`)).body as { costUsd: number };
  const total = paid.anthropic + paid.elevenlabs + paid.fal;
  assert.ok(Math.abs(stored.costUsd - total) < 1e-6, `video ${stored.costUsd} vs providers ${total}`);
  assert.ok(stored.costUsd <= 0.1, 'within the budget');

  const page = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
  for (const [provider, usd] of Object.entries(paid)) {
    const metric = new RegExp(`^archibald_provider_cost_usd_total\\{provider="${provider}"\\} (\\S+)$`, 'm');
    const value = Number(metric.exec(page)?.[1]);
    assert.ok(Math.abs(value - usd) < 1e-6, `${provider}: metric ${value}, paid ${usd}`);
  }
});
